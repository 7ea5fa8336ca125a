using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Ja4.Modules.Dashboard.Api;

/// <summary>A campaign's addresses as a block list an operator can drop in place.</summary>
internal static class Blocklist
{
    public static readonly string[] Formats = ["plain", "apache", "nftables"];

    /// <summary>
    /// <c>plain</c>: one address per line; <c>apache</c>: a <c>&lt;RequireAll&gt;</c> block of
    /// <c>Require not ip</c> lines (mod_authz_host) to include in a <c>&lt;Location&gt;</c> or
    /// <c>&lt;Directory&gt;</c>; <c>nftables</c>: a script (<c>nft -f</c>) that fills the sets
    /// <c>inet ja4 campaign_v4</c> / <c>campaign_v6</c>. Addresses are re-printed from parsed
    /// values, never copied as stored text.
    /// </summary>
    public static string Render(string format, string campaignId, IEnumerable<string> addresses)
    {
        var ips = addresses.Select(a => IPAddress.TryParse(a, out var ip) ? ip : null).OfType<IPAddress>()
            .Select(ip => ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip).Distinct().ToList();
        var v4 = ips.Where(i => i.AddressFamily == AddressFamily.InterNetwork).Select(i => i.ToString()).ToList();
        var v6 = ips.Where(i => i.AddressFamily == AddressFamily.InterNetworkV6).Select(i => i.ToString()).ToList();
        // The id comes from the store: it goes into comments only, with anything but [A-Za-z0-9._-] replaced.
        var safeId = new string(campaignId.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_').ToArray());
        var sb = new StringBuilder();
        switch (format)
        {
            case "apache":
                sb.Append("# ja4 campaign ").Append(safeId).Append(": ").Append(ips.Count).Append(" addresses\n");
                sb.Append("<RequireAll>\n    Require all granted\n");
                foreach (var ip in v4.Concat(v6))
                {
                    sb.Append("    Require not ip ").Append(ip).Append('\n');
                }
                sb.Append("</RequireAll>\n");
                break;
            case "nftables":
                sb.Append("# ja4 campaign ").Append(safeId).Append(": ").Append(ips.Count).Append(" addresses (nft -f FILE)\n");
                sb.Append("table inet ja4 {\n");
                AppendSet(sb, "campaign_v4", "ipv4_addr", v4);
                AppendSet(sb, "campaign_v6", "ipv6_addr", v6);
                sb.Append("}\n");
                break;
            default:
                foreach (var ip in v4.Concat(v6))
                {
                    sb.Append(ip).Append('\n');
                }
                break;
        }
        return sb.ToString();
    }

    private static void AppendSet(StringBuilder sb, string name, string type, IReadOnlyList<string> items)
    {
        sb.Append("\tset ").Append(name).Append(" {\n\t\ttype ").Append(type).Append('\n');
        if (items.Count > 0)
        {
            // nft refuses an empty element list, so an empty set has none.
            sb.Append("\t\telements = { ").Append(string.Join(", ", items)).Append(" }\n");
        }
        sb.Append("\t}\n");
    }
}
