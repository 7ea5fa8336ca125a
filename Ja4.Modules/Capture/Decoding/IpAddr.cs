using System.Buffers.Binary;
using System.Net;

namespace Ja4.Modules.Capture.Decoding;

/// <summary>
/// An IPv4 or IPv6 address held in two integers, so that decoding and flow lookups never
/// allocate. IPv4 is stored IPv4-mapped (::ffff:a.b.c.d) and flagged.
/// </summary>
public readonly struct IpAddr : IEquatable<IpAddr>
{
    private const ulong V4MappedPrefix = 0x0000_FFFF_0000_0000UL;

    public IpAddr(ulong high, ulong low)
    {
        High = high;
        Low = low;
    }

    public ulong High { get; }
    public ulong Low { get; }

    public bool IsV4 => High == 0 && (Low & 0xFFFF_FFFF_0000_0000UL) == V4MappedPrefix;

    /// <summary>Reads 4 bytes in network order.</summary>
    public static IpAddr FromV4(ReadOnlySpan<byte> bytes) =>
        new(0, V4MappedPrefix | BinaryPrimitives.ReadUInt32BigEndian(bytes));

    /// <summary>Reads 16 bytes in network order.</summary>
    public static IpAddr FromV6(ReadOnlySpan<byte> bytes) =>
        new(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]));

    public static IpAddr From(IPAddress address)
    {
        Span<byte> b = stackalloc byte[16];
        if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            address.TryWriteBytes(b, out _);
            return FromV4(b);
        }
        address.TryWriteBytes(b, out _);
        var a = FromV6(b);
        return a;
    }

    /// <summary>The address as a shared <see cref="IPAddress"/> (<see cref="Core.Events.AddressInterner"/>): for events.</summary>
    public IPAddress ToSharedIPAddress()
    {
        Span<byte> bytes = stackalloc byte[16];
        return Core.Events.AddressInterner.Intern(bytes[..WriteBytes(bytes)]);
    }

    /// <summary>The address as a new <see cref="IPAddress"/>.</summary>
    public IPAddress ToIPAddress()
    {
        Span<byte> bytes = stackalloc byte[16];
        return new IPAddress(bytes[..WriteBytes(bytes)]);
    }

    /// <summary>Writes the address in network order: 4 bytes for IPv4, else 16; returns the count.</summary>
    private int WriteBytes(Span<byte> bytes)
    {
        if (IsV4)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)Low);
            return 4;
        }
        BinaryPrimitives.WriteUInt64BigEndian(bytes, High);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], Low);
        return 16;
    }

    public bool Equals(IpAddr other) => High == other.High && Low == other.Low;
    public override bool Equals(object? obj) => obj is IpAddr other && Equals(other);
    public override int GetHashCode() => HashCode.Combine(High, Low);
    public static bool operator ==(IpAddr a, IpAddr b) => a.Equals(b);
    public static bool operator !=(IpAddr a, IpAddr b) => !a.Equals(b);
    public override string ToString() => ToIPAddress().ToString();
}

/// <summary>One direction of a transport flow: sender → receiver, as a dictionary key.</summary>
public readonly struct FlowId : IEquatable<FlowId>
{
    public FlowId(IpAddr src, ushort srcPort, IpAddr dst, ushort dstPort)
    {
        Src = src;
        Dst = dst;
        SrcPort = srcPort;
        DstPort = dstPort;
    }

    public IpAddr Src { get; }
    public IpAddr Dst { get; }
    public ushort SrcPort { get; }
    public ushort DstPort { get; }

    public FlowId Reverse() => new(Dst, DstPort, Src, SrcPort);

    public bool Equals(FlowId o) =>
        SrcPort == o.SrcPort && DstPort == o.DstPort && Src.Equals(o.Src) && Dst.Equals(o.Dst);

    public override bool Equals(object? obj) => obj is FlowId other && Equals(other);

    public override int GetHashCode()
    {
        var h = Src.Low * 0x9E3779B97F4A7C15UL ^ Dst.Low * 0xC2B2AE3D27D4EB4FUL ^ Src.High ^ (Dst.High << 1)
                ^ ((ulong)SrcPort << 16 | DstPort) * 0x165667B19E3779F9UL;
        return (int)(h ^ (h >> 32));
    }

    /// <summary>The flow as an event key: addresses already normal (an IPv4 address is held mapped and given back as IPv4) and shared.</summary>
    public Core.Events.FlowKey ToFlowKey() =>
        new(Src.ToSharedIPAddress(), SrcPort, Dst.ToSharedIPAddress(), DstPort);

    public override string ToString() => $"{Src}:{SrcPort} -> {Dst}:{DstPort}";
}

/// <summary>
/// Compares flows as connections: a flow equals itself and its reverse, so that a table of
/// connections finds a packet of either direction with one lookup.
/// </summary>
public sealed class ConnectionComparer : IEqualityComparer<FlowId>
{
    public static readonly ConnectionComparer Instance = new();

    public bool Equals(FlowId a, FlowId b) =>
        a.Equals(b) || (a.SrcPort == b.DstPort && a.DstPort == b.SrcPort && a.Src.Equals(b.Dst) && a.Dst.Equals(b.Src));

    /// <summary>Symmetric in the two endpoints (a sum of one hash per endpoint).</summary>
    public int GetHashCode(FlowId f)
    {
        var h = Endpoint(f.Src, f.SrcPort) + Endpoint(f.Dst, f.DstPort);
        return (int)(h ^ (h >> 32));
    }

    private static ulong Endpoint(IpAddr a, ushort port) =>
        (a.Low ^ (a.High * 0xC2B2AE3D27D4EB4FUL) ^ port) * 0x9E3779B97F4A7C15UL;
}
