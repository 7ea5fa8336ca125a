using System.Net;
using BenchmarkDotNet.Attributes;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Core.Metrics;
using Ja4.Modules.Correlation;

namespace Ja4.Bench.Correlation;

/// <summary>
/// The join's hot paths, with allocations: a request whose handshake is in the table (the
/// common case), and a handshake replacing the previous one on a reused 4-tuple.
/// <c>ja4-bench micro --filter *ConnectionTable*</c>.
/// </summary>
[MemoryDiagnoser]
public class ConnectionTableBenchmarks
{
    private const int Connections = 65_536;
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

    private ConnectionTable _table = null!;
    private HttpRequest[] _requests = null!;
    private TlsClientHello[] _hellos = null!;
    private readonly List<CorrelatedRequest> _output = new(1024);
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _table = new ConnectionTable(new CorrelationOptions { MaxConnections = Connections * 2 }, true,
            new CorrelationMetrics(new Ja4Metrics()));
        var server = IPAddress.Parse("192.0.2.10");
        _hellos = new TlsClientHello[Connections];
        _requests = new HttpRequest[Connections];
        for (var i = 0; i < Connections; i++)
        {
            // Distinct address objects, as capture and ingest each parse their own.
            var flow = new FlowKey(new IPAddress([198, 51, (byte)(i >> 8), (byte)i]), 443, server, 443);
            _hellos[i] = new TlsClientHello(T0, flow, Transport.Tcp, null, [], "1.3", 0x0303, "j", "j", "j", "j", "j", "j");
            _table.AddHandshake(_hellos[i], T0, _output);
            var requestFlow = new FlowKey(new IPAddress([198, 51, (byte)(i >> 8), (byte)i]), 443, IPAddress.Parse("192.0.2.10"), 443);
            _requests[i] = new HttpRequest
            {
                Timestamp = T0.AddMilliseconds(1),
                Flow = requestFlow,
                Method = "GET",
                Path = "/",
                Protocol = "HTTP/2.0",
                Headers = [],
                Status = 200,
                TlsProtocol = "TLSv1.3",
            };
        }
        _output.Clear();
    }

    [Benchmark(Description = "matched request")]
    public int MatchedRequest()
    {
        var i = _next++ & (Connections - 1);
        _table.AddRequest(_requests[i], T0.AddSeconds(1), _output);
        if (_output.Count >= 1024)
        {
            _output.Clear();
        }
        return _output.Count;
    }

    [Benchmark(Description = "handshake on a reused 4-tuple")]
    public int ReplacingHandshake()
    {
        var i = _next++ & (Connections - 1);
        _table.AddHandshake(_hellos[i], T0, _output);
        return _table.Count;
    }
}
