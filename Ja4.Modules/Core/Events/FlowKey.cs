using System.Net;

namespace Ja4.Modules.Core.Events;

/// <summary>Transport of a flow: TLS over TCP or QUIC over UDP.</summary>
public enum Transport : byte
{
    Tcp = 0,
    Udp = 1,
}

/// <summary>
/// The identity of one client connection as both the wire capture and the web server see it:
/// client address and port, server address and port. Addresses are kept IPv4-mapped-free
/// (an IPv4 client is an IPv4 <see cref="IPAddress"/>) so that both sides compare equal.
/// </summary>
public readonly record struct FlowKey(IPAddress ClientIp, ushort ClientPort, IPAddress ServerIp, ushort ServerPort)
{
    /// <summary>
    /// Normalises IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) to IPv4, and shares address instances among keys
    /// (<see cref="AddressInterner"/>).
    /// </summary>
    public static FlowKey Create(IPAddress clientIp, ushort clientPort, IPAddress serverIp, ushort serverPort) =>
        new(AddressInterner.Intern(Normalize(clientIp)), clientPort, AddressInterner.Intern(Normalize(serverIp)), serverPort);

    public static IPAddress Normalize(IPAddress address) =>
        address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    public override string ToString() => $"{Format(ClientIp)}:{ClientPort} -> {Format(ServerIp)}:{ServerPort}";

    private static string Format(IPAddress a) =>
        a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{a}]" : a.ToString();
}
