using System.Diagnostics;
using System.Globalization;

namespace Ja4.Tests.Storage;

/// <summary>
/// SIGKILL mid-ingest: a child process writes correlated requests into its own chDB store
/// through the real writer and reports how many rows are acknowledged; it is killed with
/// SIGKILL, restarted (the spill queue is replayed), and every acknowledged row must be there
/// exactly once. The child is the bench program's <c>storage-ingest</c> measurement.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class StorageKillTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("ja4-kill-").FullName;

    public void Dispose() => Directory.Delete(_data, true);

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ja4.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("repository root (ja4.sln) not found above " + AppContext.BaseDirectory);
    }

    private static string BenchDll(string root)
    {
        var config = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        var dll = Path.Combine(root, "bench", "Ja4.Bench", "bin", config, "net10.0", "Ja4.Bench.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: build the solution (dotnet build ja4.sln -c {config})");
        return dll;
    }

    private Process Start(string root, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(BenchDll(root));
        psi.ArgumentList.Add("storage-ingest");
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        psi.ArgumentList.Add("--data");
        psi.ArgumentList.Add(_data);
        var p = Process.Start(psi)!;
        p.ErrorDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        return p;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Every_acknowledged_row_is_stored_exactly_once_after_sigkill_and_restart(int concurrency)
    {
        var root = RepoRoot();
        long acked = 0;
        using (var child = Start(root, "--mode", "child", "--rows", "50000000", "--batch", "3000",
                   "--concurrency", concurrency.ToString(CultureInfo.InvariantCulture)))
        {
            var deadline = DateTime.UtcNow.AddMinutes(3);
            while (acked < 30_000)
            {
                Assert.True(DateTime.UtcNow < deadline, "the child acknowledged too few rows");
                var line = await child.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(2));
                Assert.NotNull(line);
                if (line.StartsWith("ACK ", StringComparison.Ordinal))
                {
                    acked = long.Parse(line[4..], CultureInfo.InvariantCulture);
                }
            }
            // Read on to the moment of the kill: the last ACK printed is the last one counted.
            child.Kill();
            string? rest;
            while ((rest = await child.StandardOutput.ReadLineAsync()) is not null)
            {
                if (rest.StartsWith("ACK ", StringComparison.Ordinal))
                {
                    acked = long.Parse(rest[4..], CultureInfo.InvariantCulture);
                }
            }
            await child.WaitForExitAsync();
            Assert.Equal(137, child.ExitCode);
        }
        using var verify = Start(root, "--mode", "verify", "--below", acked.ToString(CultureInfo.InvariantCulture));
        var output = await verify.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromMinutes(3));
        await verify.WaitForExitAsync();
        Assert.Equal(0, verify.ExitCode);
        var line2 = output.Split('\n').Single(l => l.StartsWith("VERIFY ", StringComparison.Ordinal));
        var f = line2[7..].Split(' ').Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var (count, distinct, min, max) = (f[0], f[1], f[2], f[3]);
        Assert.Equal(count, distinct);
        Assert.True(count >= acked, $"{acked} rows were acknowledged but only {count} are stored");
        Assert.Equal(0, min);
        var below = long.Parse(output.Split('\n').Single(l => l.StartsWith("BELOW ", StringComparison.Ordinal))[6..], CultureInfo.InvariantCulture);
        Assert.Equal(acked, below);
        if (concurrency == 1)
        {
            // One insert at a time: batches reach the table in order, so what is stored is a prefix too.
            Assert.Equal(count - 1, max);
        }
    }
}
