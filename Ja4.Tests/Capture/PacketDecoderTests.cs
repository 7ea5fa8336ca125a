using Ja4.Modules.Capture.Decoding;
using static Ja4.Tests.Capture.PacketBuilder;

namespace Ja4.Tests.Capture;

public sealed class PacketDecoderTests
{
    private static readonly byte[] Data = "hello"u8.ToArray();
    private static byte[] TcpSegment() => Tcp(51000, 443, 1000, 0x18, Data);
    private static byte[] Ipv4Tcp() => Ipv4("10.0.0.1", "10.0.0.2", 6, TcpSegment());
    private static byte[] Ipv6Tcp() => Ipv6("2001:db8::1", "2001:db8::2", 6, TcpSegment());

    private static (DecodeStatus Status, PacketInfo Info) Decode(int linkType, byte[] frame)
    {
        var info = new PacketInfo();
        var status = PacketDecoder.Decode(linkType, frame, ref info);
        return (status, info);
    }

    private static void AssertTcp(int linkType, byte[] frame, string src = "10.0.0.1", string dst = "10.0.0.2", int tunnels = 0)
    {
        var (status, info) = Decode(linkType, frame);
        Assert.Equal(DecodeStatus.Ok, status);
        Assert.Equal(PacketDecoder.ProtoTcp, info.Protocol);
        Assert.Equal(src, info.Src.ToString());
        Assert.Equal(dst, info.Dst.ToString());
        Assert.Equal(51000, info.SrcPort);
        Assert.Equal(443, info.DstPort);
        Assert.Equal(1000u, info.Seq);
        Assert.Equal(0x18, info.TcpFlags);
        Assert.Equal("hello", System.Text.Encoding.ASCII.GetString(frame, info.PayloadOffset, info.PayloadLength));
        Assert.Equal(tunnels, info.TunnelDepth);
    }

    [Fact]
    public void Ethernet_ipv4_tcp() => AssertTcp(LinkTypes.Ethernet, Ethernet(0x0800, Ipv4Tcp()));

    [Fact]
    public void Ethernet_ipv6_tcp() => AssertTcp(LinkTypes.Ethernet, Ethernet(0x86DD, Ipv6Tcp()), "2001:db8::1", "2001:db8::2");

    [Fact]
    public void Ethernet_padding_is_not_payload()
    {
        // A 60-byte minimum frame pads short packets; the IPv4 total length bounds the payload.
        var frame = Concat(Ethernet(0x0800, Ipv4("10.0.0.1", "10.0.0.2", 6, Tcp(51000, 443, 1000, 0x10))), new byte[6]);
        var (status, info) = Decode(LinkTypes.Ethernet, frame);
        Assert.Equal(DecodeStatus.Ok, status);
        Assert.Equal(0, info.PayloadLength);
    }

    [Fact]
    public void Vlan_8021q() => AssertTcp(LinkTypes.Ethernet, Ethernet(0x0800, Ipv4Tcp(), (0x8100, 100)));

    [Fact]
    public void QinQ_8021ad_outer_and_8021q_inner() =>
        AssertTcp(LinkTypes.Ethernet, Ethernet(0x0800, Ipv4Tcp(), (0x88A8, 10), (0x8100, 20)));

    [Fact]
    public void Linux_sll() => AssertTcp(LinkTypes.LinuxSll, Sll(0x0800, Ipv4Tcp()));

    [Fact]
    public void Linux_sll_with_vlan_protocol() =>
        AssertTcp(LinkTypes.LinuxSll, Sll(0x8100, Concat(U16(7), U16(0x0800), Ipv4Tcp())));

    [Fact]
    public void Linux_sll2() => AssertTcp(LinkTypes.LinuxSll2, Sll2(0x86DD, Ipv6Tcp()), "2001:db8::1", "2001:db8::2");

    [Theory]
    [InlineData(LinkTypes.Raw)]
    [InlineData(LinkTypes.LinktypeRaw)]
    [InlineData(LinkTypes.Ipv4)]
    public void Raw_ipv4(int linkType) => AssertTcp(linkType, Ipv4Tcp());

    [Theory]
    [InlineData(LinkTypes.Raw)]
    [InlineData(LinkTypes.Ipv6)]
    public void Raw_ipv6(int linkType) => AssertTcp(linkType, Ipv6Tcp(), "2001:db8::1", "2001:db8::2");

    [Theory]
    [InlineData(2u, true)]
    [InlineData(2u, false)]
    [InlineData(24u, true)]
    [InlineData(30u, true)]
    [InlineData(28u, false)]
    public void Bsd_loopback_families_in_either_byte_order(uint family, bool littleEndian)
    {
        var ip = family == 2 ? Ipv4Tcp() : Ipv6Tcp();
        var (status, info) = Decode(LinkTypes.Null, Null(family, ip, littleEndian));
        Assert.Equal(DecodeStatus.Ok, status);
        Assert.Equal(443, info.DstPort);
    }

    [Fact]
    public void Ipv4_with_options()
    {
        // Record-route style option padded to 8 bytes: IHL = 7.
        var options = new byte[] { 7, 7, 4, 0, 0, 0, 0, 1 };
        AssertTcp(LinkTypes.Ethernet, Ethernet(0x0800, Ipv4("10.0.0.1", "10.0.0.2", 6, TcpSegment(), options)));
    }

    [Theory]
    [InlineData(0x2000)] // more fragments, offset 0
    [InlineData(0x0010)] // last fragment, offset 16
    public void Ipv4_fragments_are_reported(ushort flagsAndOffset)
    {
        var frame = Ethernet(0x0800, Ipv4("10.0.0.1", "10.0.0.2", 6, TcpSegment(), flagsAndOffset: flagsAndOffset));
        Assert.Equal(DecodeStatus.Fragment, Decode(LinkTypes.Ethernet, frame).Status);
    }

    [Fact]
    public void Ipv6_extension_headers_are_skipped()
    {
        // Hop-by-hop (0) -> destination options (60) -> TCP (6).
        var chain = Concat(Ipv6OptionsHeader(60), Ipv6OptionsHeader(6), TcpSegment());
        AssertTcp(LinkTypes.Ethernet, Ethernet(0x86DD, Ipv6("2001:db8::1", "2001:db8::2", 0, chain)), "2001:db8::1", "2001:db8::2");
    }

    [Fact]
    public void Ipv6_atomic_fragment_header_is_skipped()
    {
        var chain = Concat(Ipv6FragmentHeader(6, 0, more: false), TcpSegment());
        AssertTcp(LinkTypes.Raw, Ipv6("2001:db8::1", "2001:db8::2", 44, chain), "2001:db8::1", "2001:db8::2");
    }

    [Fact]
    public void Ipv6_fragments_are_reported()
    {
        var chain = Concat(Ipv6FragmentHeader(6, 0, more: true), TcpSegment());
        Assert.Equal(DecodeStatus.Fragment, Decode(LinkTypes.Raw, Ipv6("2001:db8::1", "2001:db8::2", 44, chain)).Status);
    }

    [Fact]
    public void Udp_ports_and_payload()
    {
        var frame = Ethernet(0x0800, Ipv4("10.0.0.1", "10.0.0.2", 17, Udp(50000, 443, Data)));
        var (status, info) = Decode(LinkTypes.Ethernet, frame);
        Assert.Equal(DecodeStatus.Ok, status);
        Assert.Equal(PacketDecoder.ProtoUdp, info.Protocol);
        Assert.Equal(50000, info.SrcPort);
        Assert.Equal(443, info.DstPort);
        Assert.Equal(5, info.PayloadLength);
    }

    [Fact]
    public void Not_ip_and_other_protocols()
    {
        Assert.Equal(DecodeStatus.NotIp, Decode(LinkTypes.Ethernet, Ethernet(0x0806, new byte[28])).Status);
        Assert.Equal(DecodeStatus.OtherProtocol, Decode(LinkTypes.Raw, Ipv4("10.0.0.1", "10.0.0.2", 1, new byte[8])).Status);
        Assert.Equal(DecodeStatus.UnsupportedLink, Decode(127, Ipv4Tcp()).Status);
    }

    [Fact]
    public void Truncated_headers_are_reported()
    {
        var frame = Ethernet(0x0800, Ipv4Tcp());
        Assert.Equal(DecodeStatus.Truncated, Decode(LinkTypes.Ethernet, frame[..10]).Status);
        Assert.Equal(DecodeStatus.Truncated, Decode(LinkTypes.Ethernet, frame[..30]).Status);
        Assert.Equal(DecodeStatus.Truncated, Decode(LinkTypes.Ethernet, frame[..40]).Status);
    }

    // Tunnels: an outer IPv4 packet between tunnel endpoints 192.0.2.1 -> 192.0.2.2, the inner flow 10.0.0.1 -> 10.0.0.2.

    private static byte[] Outer(byte protocol, byte[] payload) => Ethernet(0x0800, Ipv4("192.0.2.1", "192.0.2.2", protocol, payload));

    [Fact]
    public void Gre_ipv4() => AssertTcp(LinkTypes.Ethernet, Outer(47, Gre(0x0800, Ipv4Tcp())), tunnels: 1);

    [Fact]
    public void Gre_with_checksum_key_and_sequence() =>
        AssertTcp(LinkTypes.Ethernet, Outer(47, Gre(0x86DD, Ipv6Tcp(), checksum: true, key: 42, sequence: 7)),
            "2001:db8::1", "2001:db8::2", tunnels: 1);

    [Fact]
    public void Gre_transparent_ethernet_bridging() =>
        AssertTcp(LinkTypes.Ethernet, Outer(47, Gre(0x6558, Ethernet(0x0800, Ipv4Tcp()), key: 1)), tunnels: 1);

    [Fact]
    public void Erspan_type_1() =>
        AssertTcp(LinkTypes.Ethernet, Outer(47, Gre(0x88BE, Ethernet(0x0800, Ipv4Tcp()))), tunnels: 1);

    [Fact]
    public void Erspan_type_2() =>
        AssertTcp(LinkTypes.Ethernet, Outer(47, Gre(0x88BE, Concat(Erspan2Header(), Ethernet(0x0800, Ipv4Tcp())), sequence: 5)), tunnels: 1);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Erspan_type_3(bool platformSubheader) =>
        AssertTcp(LinkTypes.Ethernet,
            Outer(47, Gre(0x22EB, Concat(Erspan3Header(platformSubheader), Ethernet(0x0800, Ipv4Tcp(), (0x8100, 5))), sequence: 9)),
            tunnels: 1);

    [Fact]
    public void Vxlan_on_udp_4789() =>
        AssertTcp(LinkTypes.Ethernet, Outer(17, Udp(40000, 4789, Vxlan(Ethernet(0x0800, Ipv4Tcp())))), tunnels: 1);

    [Fact]
    public void Geneve_on_udp_6081_with_options()
    {
        // One option: class 0x0102, type 0x80, length 1 word, 4 bytes of data.
        var option = new byte[] { 0x01, 0x02, 0x80, 0x01, 0xde, 0xad, 0xbe, 0xef };
        AssertTcp(LinkTypes.Ethernet, Outer(17, Udp(40000, 6081, Geneve(0x6558, Ethernet(0x0800, Ipv4Tcp()), option))), tunnels: 1);
    }

    [Fact]
    public void Geneve_carrying_ip_directly() =>
        AssertTcp(LinkTypes.Ethernet, Outer(17, Udp(40000, 6081, Geneve(0x0800, Ipv4Tcp()))), tunnels: 1);

    [Fact]
    public void Vxlan_inside_gre_counts_two_tunnels() =>
        AssertTcp(LinkTypes.Ethernet,
            Outer(47, Gre(0x0800, Ipv4("198.51.100.1", "198.51.100.2", 17, Udp(1, 4789, Vxlan(Ethernet(0x0800, Ipv4Tcp())))))),
            tunnels: 2);

    [Fact]
    public void Tunnel_nesting_is_bounded()
    {
        var packet = Ipv4Tcp();
        for (var i = 0; i < 10; i++)
        {
            packet = Ipv4("192.0.2.1", "192.0.2.2", 47, Gre(0x0800, packet));
        }
        var (status, _) = Decode(LinkTypes.Raw, packet);
        Assert.Equal(DecodeStatus.OtherProtocol, status);
    }
}
