namespace Ja4.Modules.Fingerprints;

/// <summary>Protocol numbers used by the fingerprints (IANA TLS registries, RFC 8446).</summary>
public static class TlsConstants
{
    /// <summary>Handshake type client_hello (RFC 8446 §4).</summary>
    public const byte HandshakeClientHello = 1;

    /// <summary>TLS record content type handshake (RFC 8446 §5.1).</summary>
    public const byte ContentTypeHandshake = 22;

    public const ushort ExtServerName = 0x0000;
    public const ushort ExtSupportedGroups = 0x000a;
    public const ushort ExtEcPointFormats = 0x000b;
    public const ushort ExtSignatureAlgorithms = 0x000d;
    public const ushort ExtAlpn = 0x0010;
    public const ushort ExtSupportedVersions = 0x002b;

    /// <summary>
    /// GREASE values (RFC 8701 §2): 0x0A0A, 0x1A1A, ..., 0xFAFA — both bytes equal, low nibble 0xA.
    /// JA4 and JA3 ignore them everywhere ("GREASE values are ignored", JA4 spec).
    /// </summary>
    public static bool IsGrease(ushort value) => (value & 0x0f0f) == 0x0a0a && (value >> 8) == (value & 0xff);

    /// <summary>JA4 version code of a TLS/DTLS/SSL version number (JA4 spec, "TLS Version").</summary>
    public static string Ja4VersionCode(ushort version) => version switch
    {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    };

    /// <summary>Human form of a version: "1.3", "1.2", "1.1", "1.0", "ssl3", "ssl2", "dtls1.2", or hex.</summary>
    public static string VersionName(ushort version) => version switch
    {
        0x0304 => "1.3",
        0x0303 => "1.2",
        0x0302 => "1.1",
        0x0301 => "1.0",
        0x0300 => "ssl3",
        0x0002 => "ssl2",
        0xfeff => "dtls1.0",
        0xfefd => "dtls1.2",
        0xfefc => "dtls1.3",
        _ => "0x" + version.ToString("x4", System.Globalization.CultureInfo.InvariantCulture),
    };
}
