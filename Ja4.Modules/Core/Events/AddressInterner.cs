using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Ja4.Modules.Core.Events;

/// <summary>
/// Shares one <see cref="IPAddress"/> instance per address among the events that carry it. Every
/// handshake, request and connection close holds a <see cref="FlowKey"/> with two addresses, and the
/// correlation tables keep tens of thousands of them (a close grace of 10 s at 5,000 connections/s is
/// 50,000 keys): the server's address is one of a handful and a client usually opens many
/// connections, so most of those objects were copies. A direct-mapped table of 16,384 slots, without
/// locks: a slot holds the last address that hashed to it; a miss (or a race between two threads)
/// only costs a new instance, never a wrong one, and the table never holds more than its slots.
/// Addresses with an IPv6 scope are not shared. <see cref="IPAddress"/> instances must therefore be
/// treated as immutable by their users (nothing in the daemon sets <c>ScopeId</c>).
/// </summary>
public static class AddressInterner
{
    private const int SlotBits = 14;
    private static readonly IPAddress?[] Slots = new IPAddress?[1 << SlotBits];

    /// <summary>The shared instance equal to <paramref name="address"/> (which becomes shared on a miss).</summary>
    public static IPAddress Intern(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        return Shareable(address) && address.TryWriteBytes(bytes, out var length)
            ? Shared(bytes[..length], address)
            : address;
    }

    /// <summary>The shared instance for 4 (IPv4) or 16 (IPv6) bytes in network order; allocates only on a miss.</summary>
    public static IPAddress Intern(ReadOnlySpan<byte> bytes) =>
        bytes.Length is 4 or 16
            ? Shared(bytes, null)
            : throw new ArgumentException("an address is 4 or 16 bytes", nameof(bytes));

    /// <summary>The slot's address when it holds these bytes; else <paramref name="candidate"/> (or a new instance) takes the slot.</summary>
    private static IPAddress Shared(ReadOnlySpan<byte> bytes, IPAddress? candidate)
    {
        ref var slot = ref Slots[SlotOf(bytes)];
        var cached = Volatile.Read(ref slot);
        if (cached is not null && SameBytes(cached, bytes))
        {
            return cached;
        }
        var address = candidate ?? new IPAddress(bytes);
        Volatile.Write(ref slot, address);
        return address;
    }

    private static bool Shareable(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetwork
        || (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId == 0);

    private static bool SameBytes(IPAddress cached, ReadOnlySpan<byte> bytes)
    {
        Span<byte> own = stackalloc byte[16];
        return cached.TryWriteBytes(own, out var length) && own[..length].SequenceEqual(bytes);
    }

    private static int SlotOf(ReadOnlySpan<byte> bytes)
    {
        ulong h = bytes.Length == 4
            ? BinaryPrimitives.ReadUInt32BigEndian(bytes) * 0x9E3779B97F4A7C15UL
            : (BinaryPrimitives.ReadUInt64BigEndian(bytes) * 0xC2B2AE3D27D4EB4FUL)
              ^ (BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]) * 0x9E3779B97F4A7C15UL);
        return (int)(h >> (64 - SlotBits));
    }
}
