using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.Versioning;

namespace Ja4.Bench.Ingest;

/// <summary>
/// <c>ja4-bench ingest-paced --socket PATH --pid PID [--rate N] [--seconds S] [--connections C] [--batch B]</c>:
/// sends records to a running <c>ingest-sink</c> (process PID) as Apache children do with
/// mod_reqin_log's batching: C connections, each sending messages of B newline-separated
/// records, paced to N records/s in total. Prints the CPU time the sink process used per record
/// (user + sys from <c>/proc/PID/stat</c>), which is what the daemon takes from a web server's
/// cores; the sender runs in this process and is not counted.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class IngestPacedMeasurement : IMeasurement
{
    public string Name => "ingest-paced";
    public string Description => "paced batched records into an ingest-sink process; its CPU µs per record";

    public async Task<int> RunAsync(string[] args)
    {
        var socketPath = IngestSinkMeasurement.Arg(args, "--socket") ?? throw new ArgumentException("--socket PATH is required");
        var pid = int.Parse(IngestSinkMeasurement.Arg(args, "--pid") ?? throw new ArgumentException("--pid PID is required"), CultureInfo.InvariantCulture);
        var rate = int.Parse(IngestSinkMeasurement.Arg(args, "--rate") ?? "10000", CultureInfo.InvariantCulture);
        var seconds = double.Parse(IngestSinkMeasurement.Arg(args, "--seconds") ?? "10", CultureInfo.InvariantCulture);
        var connections = int.Parse(IngestSinkMeasurement.Arg(args, "--connections") ?? "2", CultureInfo.InvariantCulture);
        var batch = int.Parse(IngestSinkMeasurement.Arg(args, "--batch") ?? "100", CultureInfo.InvariantCulture);

        var records = RecordCorpus.Generate(20_000, seed: 1);
        var messages = Enumerable.Range(0, records.Length / batch)
            .Select(m => records.Skip(m * batch).Take(batch).SelectMany(r => r.Append((byte)'\n')).ToArray())
            .ToArray();
        // Each connection sends one message every `interval` so that all of them make `rate`.
        var interval = TimeSpan.FromSeconds((double)batch * connections / rate);
        var perConnection = (int)(seconds / interval.TotalSeconds);

        var cpu0 = ProcessCpuSeconds(pid);
        var wall = Stopwatch.StartNew();
        var sent = new long[connections];
        await Task.WhenAll(Enumerable.Range(0, connections).Select(c => Task.Run(() =>
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < perConnection; i++)
            {
                var due = start + (long)(i * interval.TotalSeconds * Stopwatch.Frequency);
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                if (wait > TimeSpan.Zero)
                {
                    Thread.Sleep(wait);
                }
                socket.Send(messages[(c * 7 + i) % messages.Length]);
                sent[c] += batch;
            }
        })));
        // Let the sink drain what is in flight before reading its CPU time.
        await Task.Delay(500);
        var cpu = ProcessCpuSeconds(pid) - cpu0;
        var total = sent.Sum();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"sent {total} records in {wall.Elapsed.TotalSeconds:0.0} s ({total / wall.Elapsed.TotalSeconds:0} records/s, {connections} connections, {batch} per message); sink CPU {cpu:0.000} s"));
        Row.Print("http ingest", $"sink CPU µs/record at {rate} rec/s", 1e6 * cpu / Math.Max(1, total));
        return 0;
    }

    /// <summary>utime + stime of a process, in seconds.</summary>
    private static double ProcessCpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // Fields after the command: state is index 0, utime index 11, stime index 12 (clock ticks).
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return ticks / 100.0;
    }
}
