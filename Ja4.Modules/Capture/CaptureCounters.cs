using Ja4.Modules.Capture.Decoding;
using Ja4.Modules.Core.Metrics;

namespace Ja4.Modules.Capture;

/// <summary>Why reassembly stopped following a flow before (or instead of) a ClientHello.</summary>
public enum GiveUpReason : byte
{
    /// <summary>The client's stream does not start with a TLS handshake record.</summary>
    NotTls,
    /// <summary>TLS, but the first handshake message is not a ClientHello.</summary>
    NotClientHello,
    /// <summary>The hello (announced or buffered) is larger than <c>MaxHelloBytes</c>.</summary>
    TooLarge,
    /// <summary>Evicted to make room: more than <c>MaxFlows</c> flows at once.</summary>
    Evicted,
    /// <summary>No progress for <c>FlowIdleTimeout</c>.</summary>
    Idle,
    /// <summary>FIN or RST before the hello was complete.</summary>
    Closed,
    /// <summary>The complete hello did not parse (the parser's reason is logged at debug level).</summary>
    ParseError,
}

/// <summary>The capture module's counters (<c>ja4_capture_*</c>), shared by live and offline paths.</summary>
public sealed class CaptureCounters
{
    private readonly Counter[] _skipped;
    private readonly Counter[] _giveUps;

    public CaptureCounters(Ja4Metrics metrics)
    {
        Metrics = metrics;
        Packets = metrics.Counter("ja4_capture_packets_total", "Packets read from the capture.");
        Bytes = metrics.Counter("ja4_capture_bytes_total", "Captured bytes read.");
        _skipped = new Counter[Enum.GetValues<DecodeStatus>().Length];
        foreach (var status in Enum.GetValues<DecodeStatus>())
        {
            if (status != DecodeStatus.Ok)
            {
                _skipped[(int)status] = metrics.Counter("ja4_capture_packets_skipped_total",
                    "Packets not decoded to TCP/UDP, by reason (fragment: IP fragments are not reassembled).",
                    ("reason", SnakeCase(status.ToString())));
            }
        }
        _giveUps = new Counter[Enum.GetValues<GiveUpReason>().Length];
        foreach (var reason in Enum.GetValues<GiveUpReason>())
        {
            _giveUps[(int)reason] = metrics.Counter("ja4_capture_giveup_total",
                "Flows abandoned by ClientHello reassembly, by reason.", ("reason", SnakeCase(reason.ToString())));
        }
        TcpHellos = metrics.Counter("ja4_capture_hellos_total", "ClientHellos fingerprinted.", ("transport", "tcp"));
        QuicHellos = metrics.Counter("ja4_capture_hellos_total", "ClientHellos fingerprinted.", ("transport", "udp"));
        QuicUndecryptable = metrics.Counter("ja4_capture_quic_undecryptable_total",
            "QUIC Initial packets that did not decrypt with client Initial keys (server Initials, corrupt packets).");
        QuicGiveUps = metrics.Counter("ja4_capture_quic_giveup_total",
            "QUIC connections abandoned before a complete ClientHello (cap, idle, bad CRYPTO data).");
        ConnectionsFin = metrics.Counter("ja4_capture_connections_closed_total", "Tracked connections closed.", ("reason", "fin"));
        ConnectionsRst = metrics.Counter("ja4_capture_connections_closed_total", "Tracked connections closed.", ("reason", "rst"));
        ConnectionsEvicted = metrics.Counter("ja4_capture_connections_evicted_total",
            "Tracked connections forgotten without FIN/RST, by reason.", ("reason", "cap"));
        ConnectionsIdle = metrics.Counter("ja4_capture_connections_evicted_total",
            "Tracked connections forgotten without FIN/RST, by reason.", ("reason", "idle"));
    }

    public Ja4Metrics Metrics { get; }
    public Counter Packets { get; }
    public Counter Bytes { get; }
    public Counter TcpHellos { get; }
    public Counter QuicHellos { get; }
    public Counter QuicUndecryptable { get; }
    public Counter QuicGiveUps { get; }
    public Counter ConnectionsFin { get; }
    public Counter ConnectionsRst { get; }
    public Counter ConnectionsEvicted { get; }
    public Counter ConnectionsIdle { get; }

    public void Skipped(DecodeStatus status) => _skipped[(int)status].Increment();

    public Counter GiveUp(GiveUpReason reason) => _giveUps[(int)reason];

    public long GiveUps(GiveUpReason reason) => _giveUps[(int)reason].Value;

    public long SkippedCount(DecodeStatus status) => _skipped[(int)status].Value;

    internal static string SnakeCase(string name)
    {
        var sb = new System.Text.StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                sb.Append('_');
            }
            sb.Append(char.ToLowerInvariant(name[i]));
        }
        return sb.ToString();
    }
}
