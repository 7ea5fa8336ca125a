using System.Diagnostics;
using Ja4.Tests.TestSupport;

namespace Ja4.Tests.EndToEnd;

/// <summary>
/// <c>ja4 fingerprint</c> replaces its process image once with tiered compilation off. Its input is a
/// named pipe, so that the process waits on it while the test reads its environment from /proc.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class OneShotRuntimeTests
{
    [Theory]
    [InlineData(null, "0")]
    [InlineData("1", "1")]
    public async Task Fingerprint_runs_with_tiered_compilation_off_unless_the_caller_chose(string? given, string expected)
    {
        var pcap = Path.Combine(Corpus.FoxioPcapDir, "https-connect.pcap");
        var fifo = Path.Combine(Path.GetTempPath(), $"ja4-oneshot-{Guid.NewGuid():N}.pcap");
        Assert.Equal(0, (await Command("mkfifo", fifo)).Code);
        try
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "ja4.dll"), "fingerprint", fifo })
            {
                start.ArgumentList.Add(a);
            }
            if (given is not null)
            {
                start.Environment["DOTNET_TieredCompilation"] = given;
            }
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            // The same process id after exec: wait until its environment names the setting.
            string? seen = null;
            for (var i = 0; i < 300 && seen is null; i++)
            {
                seen = File.ReadAllText($"/proc/{process.Id}/environ").Split('\0')
                    .FirstOrDefault(v => v.StartsWith("DOTNET_TieredCompilation=", StringComparison.Ordinal));
                if (seen is null)
                {
                    await Task.Delay(50);
                }
            }
            Assert.Equal("DOTNET_TieredCompilation=" + expected, seen);
            await File.WriteAllBytesAsync(fifo, await File.ReadAllBytesAsync(pcap));
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, await errors);
            var lines = (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var expectedFile = Path.Combine(Corpus.Root, "foxio", "expected", "https-connect.pcap.json");
            Assert.NotEmpty(lines);
            // Each hello's ja4 is the corpus' (same order).
            var ja4s = lines.Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("ja4").GetString()).ToList();
            var expectedText = await File.ReadAllTextAsync(expectedFile);
            Assert.All(ja4s, j => Assert.Contains(j!, expectedText, StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(fifo);
        }
    }

    private static async Task<(int Code, string Output)> Command(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        using var p = Process.Start(start)!;
        var text = await p.StandardOutput.ReadToEndAsync() + await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, text);
    }
}
