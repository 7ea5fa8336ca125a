using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Ja4.Modules.Detection.Blocklist;

/// <summary>
/// Writes the current block list in three forms: a plain list, an Apache include of
/// <c>Require not ip</c> lines (mod_authz_core), and an nftables script that fills two sets.
/// Each file is written to a temporary name and renamed, so readers never see half a file.
/// </summary>
public static class BlocklistExporter
{
    public const string PlainFile = "blocklist.txt";
    public const string ApacheFile = "blocklist-apache.conf";
    public const string NftFile = "blocklist.nft";

    /// <summary>Writes the three files for <paramref name="addresses"/> into <paramref name="directory"/>.</summary>
    public static void Write(string directory, IEnumerable<IPAddress> addresses, string nftTable, string nftSet, DateTimeOffset at)
    {
        Directory.CreateDirectory(directory);
        var list = addresses.Select(a => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a).Distinct()
            .OrderBy(a => a.AddressFamily).ThenBy(a => a.GetAddressBytes(), ByteOrder.Instance).ToArray();
        var stamp = at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        Replace(Path.Combine(directory, PlainFile), Plain(list));
        Replace(Path.Combine(directory, ApacheFile), Apache(list, stamp));
        Replace(Path.Combine(directory, NftFile), Nft(list, nftTable, nftSet, stamp));
    }

    public static string Plain(IReadOnlyList<IPAddress> list)
    {
        var sb = new StringBuilder();
        foreach (var a in list)
        {
            sb.Append(a).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>
    /// For <c>Include</c> inside a <c>&lt;Directory&gt;</c> or <c>&lt;Location&gt;</c>: allows all but the
    /// listed addresses. An empty list still allows all.
    /// </summary>
    public static string Apache(IReadOnlyList<IPAddress> list, string stamp)
    {
        var sb = new StringBuilder();
        sb.Append("# ja4 block list, ").Append(stamp).Append(", ").Append(list.Count).Append(" addresses\n");
        sb.Append("<RequireAll>\n    Require all granted\n");
        foreach (var a in list)
        {
            sb.Append("    Require not ip ").Append(a).Append('\n');
        }
        sb.Append("</RequireAll>\n");
        return sb.ToString();
    }

    /// <summary>
    /// For <c>nft -f</c>: creates the table and its two sets when missing, empties them and adds the
    /// addresses, so that loading the file again replaces the list; a rule can then drop on the sets.
    /// </summary>
    public static string Nft(IReadOnlyList<IPAddress> list, string table, string set, string stamp)
    {
        var v4 = list.Where(a => a.AddressFamily == AddressFamily.InterNetwork).Select(a => a.ToString()).ToArray();
        var v6 = list.Where(a => a.AddressFamily == AddressFamily.InterNetworkV6).Select(a => a.ToString()).ToArray();
        var sb = new StringBuilder();
        sb.Append("# ja4 block list, ").Append(stamp).Append(", ").Append(list.Count).Append(" addresses\n");
        sb.Append("add table inet ").Append(table).Append('\n');
        sb.Append("add set inet ").Append(table).Append(' ').Append(set).Append(" { type ipv4_addr; }\n");
        sb.Append("add set inet ").Append(table).Append(' ').Append(set).Append("6 { type ipv6_addr; }\n");
        sb.Append("flush set inet ").Append(table).Append(' ').Append(set).Append('\n');
        sb.Append("flush set inet ").Append(table).Append(' ').Append(set).Append("6\n");
        if (v4.Length > 0)
        {
            sb.Append("add element inet ").Append(table).Append(' ').Append(set).Append(" { ").AppendJoin(", ", v4).Append(" }\n");
        }
        if (v6.Length > 0)
        {
            sb.Append("add element inet ").Append(table).Append(' ').Append(set).Append("6 { ").AppendJoin(", ", v6).Append(" }\n");
        }
        return sb.ToString();
    }

    private static void Replace(string path, string content)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, content);
        File.Move(temp, path, overwrite: true);
    }

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y)
        {
            var c = x!.Length.CompareTo(y!.Length);
            return c != 0 ? c : x.AsSpan().SequenceCompareTo(y);
        }
    }
}
