using System.Diagnostics;
using System.Net;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Core.Filtering;
using Ja4.Modules.Core.Metrics;
using Ja4.Modules.Core.Pipeline;
using Ja4.Modules.Correlation;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ja4.Bench.Correlation;

/// <summary>
/// The join engine alone, on one thread: events/s through <see cref="ConnectionTable"/> for a
/// keep-alive workload with port reuse, and the memory held per tracked connection with a
/// million connections open.
/// </summary>
public sealed class CorrelationMeasurement : IMeasurement
{
    public string Name => "correlation";

    public string Description => "join throughput (events/s) and memory per tracked connection [--connections N] [--rounds N] [--open N]";

    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly IPAddress Server = IPAddress.Parse("192.0.2.10");
    private const string Ja4 = "t13d1516h2_8daaf6152771_d8a2da3f94cd";

    public async Task<int> RunAsync(string[] args)
    {
        var connections = Arg(args, "--connections", 65_536);
        var rounds = Arg(args, "--rounds", 8);
        var open = Arg(args, "--open", 1_000_000);
        const int requestsPerConnection = 4;

        Throughput(connections, rounds, requestsPerConnection);
        await PipelineThroughput(connections, Math.Max(1, rounds / 2), requestsPerConnection);
        Memory(open);
        return 0;
    }

    /// <summary>
    /// The whole module: events written into the pipeline's channels by a producer thread, the
    /// <see cref="CorrelationWorker"/> on the system clock, a consumer draining the storage channel.
    /// Producer, worker and consumer CPU time all count.
    /// </summary>
    private static async Task PipelineThroughput(int connections, int rounds, int requestsPerConnection)
    {
        var registry = new Ja4Metrics();
        var pipeline = new EventPipeline(
            new HashSet<string> { ModuleNames.Capture, ModuleNames.HttpIngest, ModuleNames.Correlation, ModuleNames.Storage },
            new PipelineOptions(), registry);
        var worker = new CorrelationWorker(pipeline, new CorrelationOptions { MaxConnections = connections * 2 }, TimeProvider.System,
            registry, IpFilter.AllowAll, NullLogger<CorrelationWorker>.Instance, []);
        var hellos = pipeline.Outlet<TlsClientHello>(ModuleNames.Capture);
        var closes = pipeline.Outlet<ConnectionClosed>(ModuleNames.Capture);
        var requests = pipeline.Outlet<HttpRequest>(ModuleNames.HttpIngest);
        var stored = pipeline.Reader<CorrelatedRequest>(Edges.Correlated)!;
        // Capture also feeds storage's handshake channel: drain it as storage would.
        var handshakeRecords = pipeline.Reader<TlsClientHello>(Edges.HandshakeRecords)!;
        var drainRecords = Task.Run(async () =>
        {
            await foreach (var _ in handshakeRecords.ReadAllAsync())
            {
            }
        });
        long received = 0;
        var consumer = Task.Run(async () =>
        {
            await foreach (var _ in stored.ReadAllAsync())
            {
                received++;
            }
        });
        await worker.StartAsync(CancellationToken.None);
        var clients = Enumerable.Range(0, 4096).Select(i => new IPAddress([203, 0, (byte)(i >> 8), (byte)i])).ToArray();
        var batches = Enumerable.Range(1, rounds).Select(r => Generate(r, connections, requestsPerConnection, clients)).ToArray();
        long events = 0;
        var cpuBefore = Environment.CpuUsage.TotalTime;
        var sw = Stopwatch.StartNew();
        foreach (var batch in batches)
        {
            foreach (var e in batch)
            {
                // The live producers drop when a channel is full; here the producer waits instead,
                // so that the figure is the module's rate, not the producer's drop rate.
                switch (e)
                {
                    case TlsClientHello h:
                        WaitForRoom(pipeline, Edges.Handshakes);
                        WaitForRoom(pipeline, Edges.HandshakeRecords);
                        hellos.TryPublish(h);
                        break;
                    case HttpRequest r:
                        WaitForRoom(pipeline, Edges.HttpRequests);
                        requests.TryPublish(r);
                        break;
                    case ConnectionClosed c:
                        WaitForRoom(pipeline, Edges.Connections);
                        closes.TryPublish(c);
                        break;
                }
                events++;
            }
        }
        pipeline.Complete(ModuleNames.Capture);
        pipeline.Complete(ModuleNames.HttpIngest);
        await consumer;
        sw.Stop();
        var cpu = Environment.CpuUsage.TotalTime - cpuBefore;
        await worker.StopAsync(CancellationToken.None);
        await drainRecords;
        var dropped = registry.Snapshot().Where(m => m.Name == "ja4_channel_dropped_total").Sum(m => m.Value);
        Console.Error.WriteLine($"correlation pipeline: {events:N0} events, {received:N0} correlated in {sw.Elapsed.TotalSeconds:0.000} s wall, " +
                                $"{cpu.TotalSeconds:0.000} s CPU; channel drops {dropped}");
        Row.Print("correlation module", "events/s per core (CPU time)", events / Math.Max(cpu.TotalSeconds, 1e-6));
    }

    private static void WaitForRoom(EventPipeline pipeline, EdgeDefinition edge)
    {
        var spin = new SpinWait();
        while (pipeline.Depth(edge.Name) >= edge.DefaultCapacity - 1)
        {
            spin.SpinOnce();
        }
    }

    private static void Throughput(int connections, int rounds, int requestsPerConnection)
    {
        var metrics = new CorrelationMetrics(new Ja4Metrics());
        var table = new ConnectionTable(new CorrelationOptions { MaxConnections = connections * 2 }, captureEnabled: true, metrics);
        var output = new List<CorrelatedRequest>(4096);
        var clients = Enumerable.Range(0, 4096).Select(i => new IPAddress([198, 51, (byte)(i >> 8), (byte)i])).ToArray();
        long events = 0, requests = 0, ticks = 0;
        var cpu = TimeSpan.Zero;
        // Round 0 warms the JIT and is not counted.
        for (var round = 0; round <= rounds; round++)
        {
            var batch = Generate(round, connections, requestsPerConnection, clients);
            var cpuBefore = Environment.CpuUsage.TotalTime;
            var sw = Stopwatch.StartNew();
            var n = 0;
            foreach (var e in batch)
            {
                switch (e)
                {
                    case TlsClientHello h:
                        table.AddHandshake(h, h.Timestamp, output);
                        break;
                    case HttpRequest r:
                        table.AddRequest(r, r.Timestamp, output);
                        break;
                    case ConnectionClosed c:
                        table.CloseConnection(c, c.Timestamp);
                        break;
                }
                if (++n == 1024)
                {
                    n = 0;
                    table.Expire(TimestampOf(e), output);
                    output.Clear();
                }
            }
            output.Clear();
            sw.Stop();
            var cpuUsed = Environment.CpuUsage.TotalTime - cpuBefore;
            if (round > 0)
            {
                ticks += sw.ElapsedTicks;
                cpu += cpuUsed;
                events += batch.Length;
                requests += (long)connections * requestsPerConnection;
            }
        }
        var seconds = (double)ticks / Stopwatch.Frequency;
        var matched = metrics.Emitted(MatchStatus.Matched);
        Console.Error.WriteLine($"correlation: {events:N0} events ({requests:N0} requests) in {seconds:0.000} s wall, {cpu.TotalSeconds:0.000} s CPU; " +
                                $"wall rate {events / seconds:N0} events/s; matched {matched:N0}, match ratio {metrics.MatchRatio:0.0000}");
        // CPU time, not wall time: on a shared machine the thread is descheduled for long stretches.
        // It includes the GC's own threads, so it is if anything pessimistic for one core.
        var cpuSeconds = Math.Max(cpu.TotalSeconds, 1e-6);
        Row.Print("correlation join", "events/s per core (CPU time)", events / cpuSeconds);
        Row.Print("correlation join", "requests/s per core (CPU time)", requests / cpuSeconds);
        Row.Print("correlation join", "match ratio", metrics.MatchRatio);
    }

    /// <summary>
    /// One round: every connection of the pool opens (a new handshake on the same 4-tuple as in the
    /// previous round: port reuse), sends its keep-alive requests, and closes. Connections overlap:
    /// events of consecutive connections interleave as on a busy server.
    /// </summary>
    private static object[] Generate(int round, int connections, int requestsPerConnection, IPAddress[] clients)
    {
        var perConnection = requestsPerConnection + 2;
        var events = new object[connections * perConnection];
        var roundStart = T0.AddMinutes(round * 10);
        var i = 0;
        // Interleave: step s of connection c is emitted at slot c + s*stride, stride small.
        const int stride = 64;
        for (var baseC = 0; baseC < connections; baseC += stride)
        {
            var width = Math.Min(stride, connections - baseC);
            for (var s = 0; s < perConnection; s++)
            {
                for (var k = 0; k < width; k++)
                {
                    var c = baseC + k;
                    var flow = new FlowKey(clients[c % clients.Length], (ushort)(10_000 + c / clients.Length), Server, 443);
                    var t = roundStart.AddTicks(((long)baseC * perConnection + s * width + k) * 10);
                    events[i++] = s switch
                    {
                        0 => new TlsClientHello(t, flow, Transport.Tcp, "example.test", Alpn, "1.3", 0x0303, Ja4, Ja4, Ja4, Ja4, Ja4, Ja4),
                        _ when s == perConnection - 1 => new ConnectionClosed(t, flow, ConnectionEndReason.Fin),
                        _ => new HttpRequest
                        {
                            Timestamp = t,
                            Flow = flow,
                            Method = "GET",
                            Path = "/",
                            Protocol = "HTTP/1.1",
                            Headers = Headers,
                            Status = 200,
                            ConnectionId = c,
                            KeepAliveIndex = s - 1,
                            TlsProtocol = "TLSv1.3",
                        },
                    };
                }
            }
        }
        return events;
    }

    private static readonly string[] Alpn = ["h2", "http/1.1"];
    private static readonly KeyValuePair<string, string>[] Headers = [new("Host", "example.test")];

    private static DateTimeOffset TimestampOf(object e) => e switch
    {
        TlsClientHello h => h.Timestamp,
        HttpRequest r => r.Timestamp,
        ConnectionClosed c => c.Timestamp,
        _ => T0,
    };

    private static void Memory(int open)
    {
        // Handshake records are made by capture: built beforehand so that only the table's own
        // memory is measured first; then again with the records (distinct addresses, shared strings).
        var clients = Enumerable.Range(0, 65_536).Select(i => new IPAddress([10, 0, (byte)(i >> 8), (byte)i])).ToArray();
        var hellos = new TlsClientHello[open];
        for (var i = 0; i < open; i++)
        {
            var flow = new FlowKey(clients[i % clients.Length], (ushort)(1024 + i / clients.Length), Server, 443);
            hellos[i] = new TlsClientHello(T0, flow, Transport.Tcp, "example.test", Alpn, "1.3", 0x0303, Ja4, Ja4, Ja4, Ja4, Ja4, Ja4);
        }
        var output = new List<CorrelatedRequest>();
        var options = new CorrelationOptions { MaxConnections = open };

        var before = Settled();
        var table = new ConnectionTable(options, true, new CorrelationMetrics(new Ja4Metrics()));
        foreach (var h in hellos)
        {
            table.AddHandshake(h, T0, output);
        }
        var after = Settled();
        var tableBytes = (double)(after - before) / table.Count;
        GC.KeepAlive(table);
        table = null;

        var hellosBytesBefore = Settled();
        var fresh = new TlsClientHello[open];
        for (var i = 0; i < open; i++)
        {
            var flow = new FlowKey(new IPAddress([10, 0, (byte)((i % 65_536) >> 8), (byte)i]), (ushort)(1024 + i / 65_536), new IPAddress([192, 0, 2, 10]), 443);
            fresh[i] = new TlsClientHello(T0, flow, Transport.Tcp, "example.test", Alpn, "1.3", 0x0303, Ja4, Ja4, Ja4, Ja4, Ja4, Ja4);
        }
        var recordBytes = (double)(Settled() - hellosBytesBefore) / open;
        GC.KeepAlive(fresh);
        GC.KeepAlive(hellos);

        Console.Error.WriteLine($"correlation: {open:N0} open connections: table {tableBytes:0} B each, a handshake record with its own addresses {recordBytes:0} B");
        Row.Print("correlation table", $"bytes/connection ({open / 1000}k open)", tableBytes);
        Row.Print("correlation table", "bytes/connection incl. record", tableBytes + recordBytes);
    }

    private static long Settled()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static int Arg(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) && v > 0 ? v : fallback;
    }
}
