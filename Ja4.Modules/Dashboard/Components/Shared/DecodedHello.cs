using System.Globalization;
using Ja4.Modules.Fingerprints;

namespace Ja4.Modules.Dashboard.Components.Shared;

/// <summary>One code point of a decoded ClientHello list.</summary>
public sealed record DecodedItem(ushort Code, string Name, bool Known)
{
    /// <summary>The code as JA4's raw form writes it, with a 0x prefix.</summary>
    public string Hex => IanaNames.Hex(Code);
}

/// <summary>
/// A JA4 raw form (<c>ja4_r</c> or <c>ja4_ro</c>: <c>a_ciphers_extensions_signatures</c>, four-digit hex
/// lists) and a JA3 full string (<c>version,ciphers,extensions,groups,formats</c>, decimal lists) read
/// back into named cipher suites, extensions, signature algorithms and supported groups.
/// </summary>
public sealed record DecodedHello(string Prefix, IReadOnlyList<DecodedItem> CipherSuites, IReadOnlyList<DecodedItem> Extensions,
    IReadOnlyList<DecodedItem> SignatureAlgorithms, IReadOnlyList<DecodedItem> SupportedGroups, IReadOnlyList<string> Problems)
{
    /// <summary>Decodes what it can; anything malformed is listed in <see cref="Problems"/>, never thrown.</summary>
    public static DecodedHello Decode(string? ja4Raw, string? ja3Full)
    {
        var problems = new List<string>();
        var parts = (ja4Raw ?? "").Split('_');
        var prefix = parts[0];
        if (string.IsNullOrEmpty(ja4Raw))
        {
            problems.Add("no raw JA4 form was stored");
        }
        else if (parts.Length is < 3 or > 4)
        {
            problems.Add($"the raw JA4 form has {parts.Length} parts separated by '_', expected 3 or 4");
        }
        var ciphers = parts.Length > 1 ? Hex(parts[1], IanaNames.Registry.CipherSuite, "cipher suite", problems) : [];
        var extensions = parts.Length > 2 ? Hex(parts[2], IanaNames.Registry.Extension, "extension", problems) : [];
        var signatures = parts.Length > 3 ? Hex(parts[3], IanaNames.Registry.SignatureScheme, "signature algorithm", problems) : [];
        IReadOnlyList<DecodedItem> groups = [];
        if (!string.IsNullOrEmpty(ja3Full))
        {
            var fields = ja3Full.Split(',');
            if (fields.Length != 5)
            {
                problems.Add($"the JA3 string has {fields.Length} fields separated by ',', expected 5");
            }
            else
            {
                groups = Decimal(fields[3], problems);
            }
        }
        return new DecodedHello(prefix, ciphers, extensions, signatures, groups, problems);
    }

    private static List<DecodedItem> Hex(string list, IanaNames.Registry registry, string what, List<string> problems)
    {
        var items = new List<DecodedItem>();
        foreach (var token in list.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            if (token.Length != 4 || !ushort.TryParse(token, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
            {
                problems.Add($"'{Clip(token)}' is not a four-digit hex {what}");
                continue;
            }
            items.Add(Item(registry, code));
        }
        return items;
    }

    private static List<DecodedItem> Decimal(string list, List<string> problems)
    {
        var items = new List<DecodedItem>();
        foreach (var token in list.Split('-', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!ushort.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var code))
            {
                problems.Add($"'{Clip(token)}' is not a supported group number");
                continue;
            }
            items.Add(Item(IanaNames.Registry.SupportedGroup, code));
        }
        return items;
    }

    private static DecodedItem Item(IanaNames.Registry registry, ushort code)
    {
        var name = IanaNames.TryName(registry, code);
        return new DecodedItem(code, name ?? "unknown", name is not null);
    }

    private static string Clip(string s) => s.Length <= 16 ? s : s[..16] + "…";
}
