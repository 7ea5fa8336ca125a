using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Ja4.Modules.Core.Filtering;

/// <summary>
/// An IPv4 or IPv6 network in CIDR notation (<c>10.0.0.0/8</c>, <c>2001:db8::/32</c>); a bare
/// address is a /32 or /128. IPv4-mapped IPv6 networks (<c>::ffff:10.0.0.0/104</c>) are held as
/// their IPv4 network, so that one rule covers a client whichever way the socket reported it.
/// Host bits below the prefix are ignored.
/// </summary>
public readonly struct CidrRange : IEquatable<CidrRange>
{
    private readonly UInt128 _network;
    private readonly UInt128 _mask;

    private CidrRange(AddressFamily family, UInt128 network, int prefixLength)
    {
        Family = family;
        PrefixLength = prefixLength;
        var bits = family == AddressFamily.InterNetwork ? 32 : 128;
        _mask = prefixLength == 0 ? UInt128.Zero : (UInt128.MaxValue << (bits - prefixLength)) & MaxOf(bits);
        _network = network & _mask;
    }

    /// <summary><see cref="AddressFamily.InterNetwork"/> or <see cref="AddressFamily.InterNetworkV6"/>.</summary>
    public AddressFamily Family { get; }

    public int PrefixLength { get; }

    /// <summary>Parses <c>address[/prefix]</c>; false for anything else.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out CidrRange? range)
    {
        range = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }
        var s = text.AsSpan().Trim();
        var slash = s.IndexOf('/');
        var addressPart = slash < 0 ? s : s[..slash];
        // Zone ids have no place in a network; IPAddress.TryParse also takes "10.1" or "1" as IPv4,
        // which a rule author almost never means: IPv4 must be written as four decimal parts.
        if (addressPart.Contains('%') || !IPAddress.TryParse(addressPart, out var address) ||
            (address.AddressFamily == AddressFamily.InterNetwork && !IsDottedQuad(addressPart)))
        {
            return false;
        }
        var bits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var prefix = bits;
        if (slash >= 0)
        {
            var prefixPart = s[(slash + 1)..];
            if (prefixPart.Length is 0 or > 3 || prefixPart.ContainsAnyExceptInRange('0', '9') ||
                !int.TryParse(prefixPart, NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > bits)
            {
                return false;
            }
        }
        if (address.IsIPv4MappedToIPv6)
        {
            if (prefix < 96)
            {
                // Wider than the mapped block: it covers IPv6 space too, keep it as IPv6.
                range = new CidrRange(AddressFamily.InterNetworkV6, ToUInt128(address), prefix);
                return true;
            }
            address = address.MapToIPv4();
            prefix -= 96;
        }
        range = new CidrRange(address.AddressFamily, ToUInt128(address), prefix);
        return true;
    }

    private static bool IsDottedQuad(ReadOnlySpan<char> s)
    {
        var parts = 0;
        foreach (var range in s.Split('.'))
        {
            var part = s[range];
            if (part.Length is 0 or > 3 || part.ContainsAnyExceptInRange('0', '9'))
            {
                return false;
            }
            parts++;
        }
        return parts == 4;
    }

    /// <summary>Parses or throws <see cref="FormatException"/>.</summary>
    public static CidrRange Parse(string text) =>
        TryParse(text, out var r) ? r.Value : throw new FormatException($"\"{text}\" is not an IP address or CIDR network");

    /// <summary>Whether the address (IPv4-mapped ones as IPv4) lies in this network.</summary>
    public bool Contains(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        return address.AddressFamily == Family && (ToUInt128(address) & _mask) == _network;
    }

    internal bool Contains(UInt128 value) => (value & _mask) == _network;

    internal static UInt128 ToUInt128(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        return written == 4
            ? BinaryPrimitives.ReadUInt32BigEndian(bytes)
            : BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }

    private static UInt128 MaxOf(int bits) => bits == 128 ? UInt128.MaxValue : (UInt128.One << bits) - 1;

    public bool Equals(CidrRange other) => Family == other.Family && PrefixLength == other.PrefixLength && _network == other._network;

    public override bool Equals(object? obj) => obj is CidrRange other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Family, PrefixLength, _network);

    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[16];
        if (Family == AddressFamily.InterNetwork)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)_network);
            return $"{new IPAddress(bytes[..4])}/{PrefixLength}";
        }
        BinaryPrimitives.WriteUInt128BigEndian(bytes, _network);
        return $"{new IPAddress(bytes)}/{PrefixLength}";
    }
}
