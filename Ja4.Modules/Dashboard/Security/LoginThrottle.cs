using System.Net;
using Microsoft.Extensions.Options;

namespace Ja4.Modules.Dashboard.Security;

/// <summary>
/// Counts failed logins per client address: after <see cref="DashboardOptions.MaxLoginFailures"/>
/// failures within <see cref="DashboardOptions.LoginLockout"/>, further attempts from that address
/// are refused (HTTP 429) until the oldest failure is that old. Bounded: at most
/// <see cref="MaxTrackedAddresses"/> addresses are tracked; when full, expired entries go first,
/// then the oldest.
/// </summary>
public sealed class LoginThrottle(IOptions<DashboardOptions> options, TimeProvider clock)
{
    public const int MaxTrackedAddresses = 10_000;

    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    private sealed class Entry
    {
        public int Failures;
        public DateTimeOffset WindowStart;
    }

    /// <summary>Time until <paramref name="address"/> may try again, or null when it may try now.</summary>
    public TimeSpan? RetryAfter(IPAddress? address)
    {
        var key = Key(address);
        var now = clock.GetUtcNow();
        var o = options.Value;
        lock (_lock)
        {
            if (!_entries.TryGetValue(key, out var e))
            {
                return null;
            }
            var until = e.WindowStart + o.LoginLockout;
            if (until <= now)
            {
                _entries.Remove(key);
                return null;
            }
            return e.Failures >= o.MaxLoginFailures ? until - now : null;
        }
    }

    /// <summary>Records a failed attempt; returns the failures counted in the current window.</summary>
    public int Failed(IPAddress? address)
    {
        var key = Key(address);
        var now = clock.GetUtcNow();
        var lockout = options.Value.LoginLockout;
        lock (_lock)
        {
            if (!_entries.TryGetValue(key, out var e) || e.WindowStart + lockout <= now)
            {
                if (!_entries.ContainsKey(key) && _entries.Count >= MaxTrackedAddresses)
                {
                    MakeRoom(now, lockout);
                }
                e = new Entry { WindowStart = now };
                _entries[key] = e;
            }
            return ++e.Failures;
        }
    }

    /// <summary>A successful login clears the address's failures.</summary>
    public void Succeeded(IPAddress? address)
    {
        lock (_lock)
        {
            _entries.Remove(Key(address));
        }
    }

    private void MakeRoom(DateTimeOffset now, TimeSpan lockout)
    {
        foreach (var (k, e) in _entries.Where(p => p.Value.WindowStart + lockout <= now).ToList())
        {
            _entries.Remove(k);
        }
        if (_entries.Count >= MaxTrackedAddresses)
        {
            _entries.Remove(_entries.MinBy(p => p.Value.WindowStart).Key);
        }
    }

    private static string Key(IPAddress? address) =>
        address is null ? "unknown" : (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();
}
