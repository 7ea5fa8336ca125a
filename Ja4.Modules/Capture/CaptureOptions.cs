using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Ja4.Modules.Capture;

/// <summary><c>Modules:Capture</c>: live packet capture and ClientHello fingerprinting.</summary>
public sealed class CaptureOptions
{
    /// <summary>Switches the module on. Default: false when absent.</summary>
    public bool Enabled { get; set; }

    /// <summary>Interface name, or <c>any</c> for all (Linux cooked capture). Default: <c>any</c>.</summary>
    [Required]
    public string Interface { get; set; } = "any";

    /// <summary>
    /// BPF filter applied in the kernel. Default: what the client sends to port 443 (TCP and QUIC) and the server's
    /// FIN and RST (the end of a connection, for correlation); the server's responses stay out of the capture
    /// (libpcap's <c>tcp[…]</c> reads IPv4 only, so the IPv6 flags are read at <c>ip6[53]</c>, the TCP flags
    /// byte behind a 40-byte header). For other ports, replace every 443.
    /// </summary>
    public string Filter { get; set; } = DefaultFilter;

    /// <summary>The default <see cref="Filter"/>.</summary>
    public const string DefaultFilter =
        "tcp dst port 443 or udp dst port 443 or (tcp src port 443 and (tcp[tcpflags] & (tcp-fin|tcp-rst) != 0 or (ip6[6] = 6 and ip6[53] & 5 != 0)))";

    /// <summary>Bytes captured per packet. Default: 65535 (a ClientHello can span many segments).</summary>
    [Range(256, 262_144)]
    public int SnapLength { get; set; } = 65_535;

    /// <summary>
    /// Kernel capture buffer (the packet ring, resident in full) in MiB. Default: 16, for the client side of the
    /// traffic that the default <see cref="Filter"/> takes (16 MB held 5,000 new connections/s without a kernel drop;
    /// raise it when <c>ja4_capture_pcap_kernel_dropped</c> grows).
    /// </summary>
    [Range(1, 4096)]
    public int BufferSizeMb { get; set; } = 16;

    /// <summary>Put the interface in promiscuous mode. Default: false (a web server sees its own traffic).</summary>
    public bool Promiscuous { get; set; }

    /// <summary>Reassembly: most half-open client flows tracked at once. Default: 65536.</summary>
    [Range(16, 16_777_216)]
    public int MaxFlows { get; set; } = 65_536;

    /// <summary>Reassembly: most bytes buffered for one ClientHello. Default: 65536.</summary>
    [Range(1024, 1_048_576)]
    public int MaxHelloBytes { get; set; } = 65_536;

    /// <summary>Reassembly: a flow without progress for this long is dropped. Default: 00:00:10.</summary>
    public TimeSpan FlowIdleTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Connections tracked after their hello, to report FIN/RST to correlation. Default: 262144.</summary>
    [Range(0, 16_777_216)]
    public int MaxTrackedConnections { get; set; } = 262_144;

    /// <summary>A tracked connection silent for this long is forgotten. Default: 00:05:00.</summary>
    public TimeSpan ConnectionIdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Decrypt QUIC Initial packets on UDP and fingerprint their ClientHello. Default: true.</summary>
    public bool Quic { get; set; } = true;

    /// <summary>How often pcap kernel/interface drop statistics are read and logged. Default: 00:00:30.</summary>
    public TimeSpan StatsInterval { get; set; } = TimeSpan.FromSeconds(30);
}

internal sealed class CaptureOptionsValidator : IValidateOptions<CaptureOptions>
{
    public ValidateOptionsResult Validate(string? name, CaptureOptions o)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(o.Interface))
        {
            errors.Add("Modules:Capture:Interface must name an interface or be \"any\"");
        }
        if (o.FlowIdleTimeout <= TimeSpan.Zero)
        {
            errors.Add("Modules:Capture:FlowIdleTimeout must be positive");
        }
        if (o.ConnectionIdleTimeout <= TimeSpan.Zero)
        {
            errors.Add("Modules:Capture:ConnectionIdleTimeout must be positive");
        }
        if (string.IsNullOrWhiteSpace(o.Filter))
        {
            errors.Add("Modules:Capture:Filter must be a BPF filter (e.g. \"tcp port 443 or udp port 443\")");
        }
        else if (FilterError(o.Filter) is { } filterError)
        {
            errors.Add($"Modules:Capture:Filter \"{o.Filter}\" is not a valid BPF filter: {filterError}");
        }
        if (o.StatsInterval < TimeSpan.FromSeconds(1))
        {
            errors.Add("Modules:Capture:StatsInterval must be at least 00:00:01");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Compiles the filter with libpcap (no device needed); null when valid or libpcap is absent.</summary>
    private static string? FilterError(string filter)
    {
        try
        {
            return SharpPcap.LibPcap.PcapDevice.CheckFilter(filter, out var error) ? null : error?.Trim() ?? "syntax error";
        }
        catch (DllNotFoundException)
        {
            return null; // reported when the device opens
        }
    }
}
