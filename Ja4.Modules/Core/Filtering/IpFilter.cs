using System.Net;
using System.Net.Sockets;
using Ja4.Modules.Core.Metrics;

namespace Ja4.Modules.Core.Filtering;

/// <summary>
/// The client-address filter shared by capture, ingest and correlation, so that load-balancer
/// health checks, monitoring probes and internal scanners can be left out of everything.
/// A client passes when the allow list is empty or contains it, and the deny list does not
/// (deny wins). IPv4-mapped IPv6 clients are matched as IPv4.
/// </summary>
public sealed class IpFilter
{
    private readonly CidrRange[] _allow4;
    private readonly CidrRange[] _allow6;
    private readonly CidrRange[] _deny4;
    private readonly CidrRange[] _deny6;
    private readonly bool _hasAllow;
    private readonly Ja4Metrics? _metrics;

    /// <summary>A filter that lets everything through.</summary>
    public static IpFilter AllowAll { get; } = new([], [], null);

    public IpFilter(IEnumerable<CidrRange> allow, IEnumerable<CidrRange> deny, Ja4Metrics? metrics)
    {
        var a = allow.ToArray();
        var d = deny.ToArray();
        _allow4 = [.. a.Where(r => r.Family == AddressFamily.InterNetwork)];
        _allow6 = [.. a.Where(r => r.Family == AddressFamily.InterNetworkV6)];
        _deny4 = [.. d.Where(r => r.Family == AddressFamily.InterNetwork)];
        _deny6 = [.. d.Where(r => r.Family == AddressFamily.InterNetworkV6)];
        _hasAllow = a.Length > 0;
        IsEmpty = a.Length == 0 && d.Length == 0;
        _metrics = metrics;
    }

    /// <summary>Builds the filter from validated options (entries that do not parse are skipped).</summary>
    public static IpFilter FromOptions(IpFilterOptions options, Ja4Metrics? metrics) =>
        new(ParseAll(options.Allow), ParseAll(options.Deny), metrics);

    /// <summary>True when there are no rules: every client passes.</summary>
    public bool IsEmpty { get; }

    /// <summary>Whether traffic of this client is kept.</summary>
    public bool Allows(IPAddress client)
    {
        if (IsEmpty)
        {
            return true;
        }
        if (client.IsIPv4MappedToIPv6)
        {
            client = client.MapToIPv4();
        }
        var v4 = client.AddressFamily == AddressFamily.InterNetwork;
        var value = CidrRange.ToUInt128(client);
        if (AnyContains(v4 ? _deny4 : _deny6, value))
        {
            return false;
        }
        return !_hasAllow || AnyContains(v4 ? _allow4 : _allow6, value);
    }

    /// <summary>
    /// The filter as one module uses it: what it drops is counted in
    /// <c>ja4_ipfilter_dropped_total{module="..."}</c>.
    /// </summary>
    public IpFilterGate For(string module) => new(this,
        _metrics?.Counter("ja4_ipfilter_dropped_total", "Events dropped by the IpFilter allow/deny lists.", ("module", module)));

    private static bool AnyContains(CidrRange[] ranges, UInt128 value)
    {
        foreach (var r in ranges)
        {
            if (r.Contains(value))
            {
                return true;
            }
        }
        return false;
    }

    private static IEnumerable<CidrRange> ParseAll(IEnumerable<string>? entries)
    {
        foreach (var e in entries ?? [])
        {
            if (CidrRange.TryParse(e, out var r))
            {
                yield return r.Value;
            }
        }
    }
}

/// <summary>One module's use of the <see cref="IpFilter"/>, counting what it drops.</summary>
public sealed class IpFilterGate
{
    private readonly IpFilter _filter;
    private readonly Counter? _dropped;

    internal IpFilterGate(IpFilter filter, Counter? dropped)
    {
        _filter = filter;
        _dropped = dropped;
    }

    /// <summary>Events dropped so far by this module.</summary>
    public long Dropped => _dropped?.Value ?? 0;

    /// <summary>True to keep the event; false (and counted) to drop it.</summary>
    public bool Admit(IPAddress client)
    {
        if (_filter.Allows(client))
        {
            return true;
        }
        _dropped?.Increment();
        return false;
    }

    /// <summary>Same decision as <see cref="Admit"/>, without counting (for follow-up events of a dropped client).</summary>
    public bool Allows(IPAddress client) => _filter.Allows(client);
}
