namespace Ja4.Modules.Fingerprints;

/// <summary>
/// The facts of one ClientHello that the fingerprints are computed from. Lists keep wire order
/// and keep GREASE values: each fingerprint decides what to drop.
/// </summary>
public sealed class ClientHello
{
    public required ushort LegacyVersion { get; init; }
    public required ushort[] CipherSuites { get; init; }
    /// <summary>Extension types in wire order.</summary>
    public required ushort[] Extensions { get; init; }
    /// <summary>First host_name of server_name, or null. Raw bytes decoded as UTF-8 (invalid bytes replaced).</summary>
    public string? Sni { get; init; }
    /// <summary>True when the server_name extension is present (even if empty or not a host name).</summary>
    public bool HasServerName { get; init; }
    /// <summary>ALPN protocol names in offered order, as raw bytes.</summary>
    public required byte[][] Alpn { get; init; }
    public required ushort[] SupportedVersions { get; init; }
    public required ushort[] SignatureAlgorithms { get; init; }
    public required ushort[] SupportedGroups { get; init; }
    public required byte[] EcPointFormats { get; init; }

    /// <summary>Highest non-GREASE supported_versions value, else the legacy version.</summary>
    public ushort MaxVersion
    {
        get
        {
            ushort max = 0;
            foreach (var v in SupportedVersions)
            {
                if (!TlsConstants.IsGrease(v) && v > max)
                {
                    max = v;
                }
            }
            return max != 0 ? max : LegacyVersion;
        }
    }

    /// <summary>ALPN names as text for display (printable ASCII kept, other bytes as \xNN).</summary>
    public IReadOnlyList<string> AlpnNames() => Array.ConvertAll(Alpn, AlpnText);

    internal static string AlpnText(byte[] value)
    {
        var sb = new System.Text.StringBuilder(value.Length);
        foreach (var b in value)
        {
            if (b is >= 0x20 and < 0x7f && b != (byte)'\\')
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append("\\x").Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        return sb.ToString();
    }
}

/// <summary>Why bytes were not accepted as a ClientHello.</summary>
public enum ClientHelloError
{
    None = 0,
    /// <summary>The bytes end before the message (or a field) does.</summary>
    Truncated,
    /// <summary>The handshake type is not client_hello.</summary>
    NotClientHello,
    /// <summary>A length field contradicts its container (odd cipher list, extension overrun, ...).</summary>
    BadLength,
}
