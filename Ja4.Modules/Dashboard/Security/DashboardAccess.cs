using System.Net;

namespace Ja4.Modules.Dashboard.Security;

/// <summary>
/// Who may use the dashboard, from <see cref="DashboardOptions"/>: open (loopback-only binding, no
/// account, no proxy mode), or login required (local accounts, a trusted reverse proxy's header,
/// or both).
/// </summary>
public sealed class DashboardAccess
{
    private readonly IPNetwork[] _proxies;
    private readonly Dictionary<string, string> _accounts;

    public DashboardAccess(DashboardOptions options)
    {
        _accounts = options.Accounts
            .Where(a => !string.IsNullOrEmpty(a.Name))
            .GroupBy(a => a.Name, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First().PasswordHash ?? "", StringComparer.Ordinal);
        _proxies = options.TrustedProxyAuthentication
            ? options.TrustedProxies.Select(p => TryNetwork(p, out var n) ? n : (IPNetwork?)null).OfType<IPNetwork>().ToArray()
            : [];
        ProxyHeader = options.TrustedProxyHeader;
        ProxyMode = options.TrustedProxyAuthentication;
        LoginRequired = _accounts.Count > 0 || ProxyMode || !DashboardOptionsValidator.AllUrlsLoopback(options.Urls);
    }

    /// <summary>True unless the dashboard is bound to loopback only with no account and no proxy mode.</summary>
    public bool LoginRequired { get; }

    /// <summary>True when local accounts can sign in.</summary>
    public bool HasAccounts => _accounts.Count > 0;

    /// <summary>True when a trusted reverse proxy's header names the user.</summary>
    public bool ProxyMode { get; }

    /// <summary>The header a trusted proxy puts the user's name in.</summary>
    public string ProxyHeader { get; }

    /// <summary>True when <paramref name="address"/> is one of the configured proxies.</summary>
    public bool IsTrustedProxy(IPAddress? address)
    {
        if (address is null || _proxies.Length == 0)
        {
            return false;
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        foreach (var n in _proxies)
        {
            if (n.Contains(address))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>True when the account exists and the password matches its hash.</summary>
    public bool Verify(string name, string password)
    {
        if (!_accounts.TryGetValue(name, out var hash))
        {
            // Spend the same time as for a real account, so that timing does not tell names apart.
            PasswordHash.Verify(password, DummyHash.Value);
            return false;
        }
        return PasswordHash.Verify(password, hash);
    }

    /// <summary>True when <paramref name="name"/> is a configured account.</summary>
    public bool IsAccount(string name) => _accounts.ContainsKey(name);

    private static readonly Lazy<string> DummyHash = new(() => PasswordHash.Hash(Guid.NewGuid().ToString("N")));

    /// <summary>An address (one host) or a CIDR block.</summary>
    public static bool TryNetwork(string? text, out IPNetwork network)
    {
        network = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }
        text = text.Trim();
        if (!text.Contains('/'))
        {
            if (!IPAddress.TryParse(text, out var ip))
            {
                return false;
            }
            network = new IPNetwork(ip, ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }
        return IPNetwork.TryParse(text, out network);
    }
}
