using System.Buffers.Binary;
using System.Text;

namespace Ja4.Modules.Fingerprints;

/// <summary>
/// Parses a TLS ClientHello handshake message (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2). Every length
/// is checked against its container; hostile bytes give a <see cref="ClientHelloError"/>, never
/// an exception.
/// </summary>
public static class ClientHelloParser
{
    /// <summary>Handshake header: msg_type (1) + uint24 length.</summary>
    public const int HandshakeHeaderLength = 4;

    /// <summary>
    /// Total length (header included) of the handshake message at the start of
    /// <paramref name="data"/>, or -1 when fewer than 4 bytes are available.
    /// </summary>
    public static int MessageLength(ReadOnlySpan<byte> data) =>
        data.Length < HandshakeHeaderLength ? -1 : HandshakeHeaderLength + ((data[1] << 16) | (data[2] << 8) | data[3]);

    /// <param name="handshakeMessage">Starts at the handshake header (type 1, uint24 length, body).</param>
    /// <param name="hello">The parsed hello, or null on failure.</param>
    /// <param name="error">Why parsing failed, or <see cref="ClientHelloError.None"/>.</param>
    public static bool TryParse(ReadOnlySpan<byte> handshakeMessage, out ClientHello? hello, out ClientHelloError error)
    {
        hello = null;
        if (handshakeMessage.Length < HandshakeHeaderLength)
        {
            error = ClientHelloError.Truncated;
            return false;
        }
        if (handshakeMessage[0] != TlsConstants.HandshakeClientHello)
        {
            error = ClientHelloError.NotClientHello;
            return false;
        }
        var total = MessageLength(handshakeMessage);
        if (handshakeMessage.Length < total)
        {
            error = ClientHelloError.Truncated;
            return false;
        }
        var r = new Reader(handshakeMessage[HandshakeHeaderLength..total]);

        // legacy_version, random[32], legacy_session_id<0..32>
        if (!r.U16(out var legacyVersion) || !r.Skip(32) || !r.Vector8(out _))
        {
            error = ClientHelloError.BadLength;
            return false;
        }
        if (!r.Vector16(out var cipherBytes) || (cipherBytes.Length & 1) != 0)
        {
            error = ClientHelloError.BadLength;
            return false;
        }
        if (!r.Vector8(out _))
        {
            error = ClientHelloError.BadLength;
            return false;
        }
        var ciphers = ReadU16List(cipherBytes);

        var extensions = new List<ushort>();
        string? sni = null;
        var hasServerName = false;
        byte[][] alpn = [];
        ushort[] versions = [];
        ushort[] sigAlgs = [];
        ushort[] groups = [];
        byte[] pointFormats = [];

        // SSL 3.0-era hellos may end without an extensions block.
        if (!r.AtEnd)
        {
            if (!r.Vector16(out var extBlock))
            {
                error = ClientHelloError.BadLength;
                return false;
            }
            var e = new Reader(extBlock);
            while (!e.AtEnd)
            {
                if (!e.U16(out var type) || !e.Vector16(out var data))
                {
                    error = ClientHelloError.BadLength;
                    return false;
                }
                extensions.Add(type);
                switch (type)
                {
                    case TlsConstants.ExtServerName when !hasServerName:
                        hasServerName = true;
                        sni = ParseServerName(data);
                        break;
                    case TlsConstants.ExtAlpn when alpn.Length == 0:
                        alpn = ParseAlpn(data);
                        break;
                    case TlsConstants.ExtSupportedVersions when versions.Length == 0:
                        versions = ParsePrefixedU16List(data, prefixBytes: 1);
                        break;
                    case TlsConstants.ExtSignatureAlgorithms when sigAlgs.Length == 0:
                        sigAlgs = ParsePrefixedU16List(data, prefixBytes: 2);
                        break;
                    case TlsConstants.ExtSupportedGroups when groups.Length == 0:
                        groups = ParsePrefixedU16List(data, prefixBytes: 2);
                        break;
                    case TlsConstants.ExtEcPointFormats when pointFormats.Length == 0:
                        var pr = new Reader(data);
                        pointFormats = pr.Vector8(out var pf) ? pf.ToArray() : [];
                        break;
                }
            }
        }

        hello = new ClientHello
        {
            LegacyVersion = legacyVersion,
            CipherSuites = ciphers,
            Extensions = extensions.ToArray(),
            Sni = sni,
            HasServerName = hasServerName,
            Alpn = alpn,
            SupportedVersions = versions,
            SignatureAlgorithms = sigAlgs,
            SupportedGroups = groups,
            EcPointFormats = pointFormats,
        };
        error = ClientHelloError.None;
        return true;
    }

    /// <summary>server_name_list (RFC 6066 §3): the first host_name entry.</summary>
    private static string? ParseServerName(ReadOnlySpan<byte> data)
    {
        var r = new Reader(data);
        if (!r.Vector16(out var list))
        {
            return null;
        }
        var l = new Reader(list);
        while (!l.AtEnd)
        {
            if (!l.U8(out var nameType) || !l.Vector16(out var name))
            {
                return null;
            }
            if (nameType == 0)
            {
                return Encoding.UTF8.GetString(name);
            }
        }
        return null;
    }

    /// <summary>ProtocolNameList (RFC 7301 §3.1); stops at the first malformed entry.</summary>
    private static byte[][] ParseAlpn(ReadOnlySpan<byte> data)
    {
        var r = new Reader(data);
        if (!r.Vector16(out var list))
        {
            return [];
        }
        var names = new List<byte[]>();
        var l = new Reader(list);
        while (!l.AtEnd && l.Vector8(out var name))
        {
            names.Add(name.ToArray());
        }
        return names.ToArray();
    }

    /// <summary>A uint16 list behind a 1- or 2-byte length prefix; the whole list or nothing.</summary>
    private static ushort[] ParsePrefixedU16List(ReadOnlySpan<byte> data, int prefixBytes)
    {
        var r = new Reader(data);
        ReadOnlySpan<byte> list;
        var ok = prefixBytes == 1 ? r.Vector8(out list) : r.Vector16(out list);
        return ok && (list.Length & 1) == 0 ? ReadU16List(list) : [];
    }

    private static ushort[] ReadU16List(ReadOnlySpan<byte> bytes)
    {
        var result = new ushort[bytes.Length / 2];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = BinaryPrimitives.ReadUInt16BigEndian(bytes[(2 * i)..]);
        }
        return result;
    }

    /// <summary>Bounds-checked big-endian cursor.</summary>
    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _rest = data;

        public readonly bool AtEnd => _rest.IsEmpty;

        public bool U8(out byte value)
        {
            if (_rest.Length < 1)
            {
                value = 0;
                return false;
            }
            value = _rest[0];
            _rest = _rest[1..];
            return true;
        }

        public bool U16(out ushort value)
        {
            if (_rest.Length < 2)
            {
                value = 0;
                return false;
            }
            value = BinaryPrimitives.ReadUInt16BigEndian(_rest);
            _rest = _rest[2..];
            return true;
        }

        public bool Skip(int n)
        {
            if (_rest.Length < n)
            {
                return false;
            }
            _rest = _rest[n..];
            return true;
        }

        public bool Vector8(out ReadOnlySpan<byte> value)
        {
            value = default;
            return U8(out var len) && Take(len, out value);
        }

        public bool Vector16(out ReadOnlySpan<byte> value)
        {
            value = default;
            return U16(out var len) && Take(len, out value);
        }

        private bool Take(int n, out ReadOnlySpan<byte> value)
        {
            if (_rest.Length < n)
            {
                value = default;
                return false;
            }
            value = _rest[..n];
            _rest = _rest[n..];
            return true;
        }
    }
}
