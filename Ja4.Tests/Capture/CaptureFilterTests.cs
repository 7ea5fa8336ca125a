using Ja4.Modules.Capture;
using PacketDotNet;
using SharpPcap.LibPcap;
using Ja4.Tests.TestSupport;
using static Ja4.Tests.Capture.PacketBuilder;

namespace Ja4.Tests.Capture;

/// <summary>
/// The default capture filter, compiled by libpcap and run on hand-built frames: it keeps what
/// fingerprinting and correlation read (everything the client sends to port 443, QUIC Initials,
/// and the server's FIN and RST that close a connection) and leaves the server's data (responses)
/// in the kernel, over IPv4 and IPv6 and on both link types a capture sees here.
/// </summary>
public sealed class CaptureFilterTests
{
    private const byte Fin = 0x01, Syn = 0x02, Rst = 0x04, Psh = 0x08, Ack = 0x10;
    private static readonly byte[] Data = new byte[300];

    public static TheoryData<string, string, bool> Frames => new()
    {
        // what, shape (below), kept
        { "client SYN", "c2s-syn", true },
        { "client data (ClientHello, requests)", "c2s-data", true },
        { "client FIN", "c2s-fin", true },
        { "client RST", "c2s-rst", true },
        { "server SYN-ACK", "s2c-synack", false },
        { "server data (response)", "s2c-data", false },
        { "server pure ACK", "s2c-ack", false },
        { "server FIN", "s2c-fin", true },
        { "server FIN with data", "s2c-fin-data", true },
        { "server RST", "s2c-rst", true },
        { "QUIC to the server", "udp-c2s", true },
        { "QUIC from the server", "udp-s2c", false },
        { "other TCP port", "other-tcp", false },
    };

    [Theory]
    [MemberData(nameof(Frames))]
    public void Default_filter_keeps_the_client_side_and_the_server_closing(string what, string shape, bool kept)
    {
        var filter = new CaptureOptions().Filter;
        foreach (var v6 in new[] { false, true })
        {
            var ip = Ip(shape, v6);
            Assert.True(kept == Matches(LinkLayers.Ethernet, filter, Ethernet(v6 ? (ushort)0x86DD : (ushort)0x0800, ip)),
                $"{what} over {(v6 ? "IPv6" : "IPv4")} on Ethernet: expected {(kept ? "kept" : "left out")}");
            Assert.True(kept == Matches(LinkLayers.LinuxSll, filter, Sll(v6 ? (ushort)0x86DD : (ushort)0x0800, ip)),
                $"{what} over {(v6 ? "IPv6" : "IPv4")} on the 'any' interface: expected {(kept ? "kept" : "left out")}");
        }
    }

    [Fact]
    public void Default_in_the_shipped_configuration_is_the_options_default()
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(Corpus.RepositoryRoot, "appsettings.json")));
        Assert.Equal(new CaptureOptions().Filter,
            doc.RootElement.GetProperty("Modules").GetProperty("Capture").GetProperty("Filter").GetString());
    }

    private static byte[] Ip(string shape, bool v6)
    {
        const string client = "198.51.100.7", server = "203.0.113.5";
        const string client6 = "2001:db8::7", server6 = "2001:db8::5";
        var (segment, proto, fromClient) = shape switch
        {
            "c2s-syn" => (Tcp(50000, 443, 1, Syn), (byte)6, true),
            "c2s-data" => (Tcp(50000, 443, 2, Psh | Ack, Data), (byte)6, true),
            "c2s-fin" => (Tcp(50000, 443, 3, Fin | Ack), (byte)6, true),
            "c2s-rst" => (Tcp(50000, 443, 3, Rst), (byte)6, true),
            "s2c-synack" => (Tcp(443, 50000, 1, Syn | Ack), (byte)6, false),
            "s2c-data" => (Tcp(443, 50000, 2, Psh | Ack, Data), (byte)6, false),
            "s2c-ack" => (Tcp(443, 50000, 2, Ack), (byte)6, false),
            "s2c-fin" => (Tcp(443, 50000, 3, Fin | Ack), (byte)6, false),
            "s2c-fin-data" => (Tcp(443, 50000, 3, Fin | Psh | Ack, Data), (byte)6, false),
            "s2c-rst" => (Tcp(443, 50000, 3, Rst | Ack), (byte)6, false),
            "udp-c2s" => (Udp(50000, 443, Data), (byte)17, true),
            "udp-s2c" => (Udp(443, 50000, Data), (byte)17, false),
            "other-tcp" => (Tcp(50000, 8443, 2, Psh | Ack, Data), (byte)6, true),
            _ => throw new ArgumentOutOfRangeException(nameof(shape)),
        };
        var (src, dst) = fromClient ? (v6 ? (client6, server6) : (client, server)) : (v6 ? (server6, client6) : (server, client));
        return v6 ? Ipv6(src, dst, proto, segment) : Ipv4(src, dst, proto, segment);
    }

    private static bool Matches(LinkLayers link, string filter, byte[] frame)
    {
        using var program = BpfProgram.Create(link, filter);
        return program.Matches(frame);
    }
}
