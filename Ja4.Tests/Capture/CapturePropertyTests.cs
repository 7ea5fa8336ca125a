using Ja4.Modules.Capture;
using Ja4.Modules.Capture.Decoding;
using Ja4.Modules.Capture.Quic;
using Ja4.Modules.Capture.Reassembly;
using Ja4.Modules.Core.Metrics;
using static Ja4.Tests.Capture.PacketBuilder;

namespace Ja4.Tests.Capture;

/// <summary>Random, truncated and length-lying bytes never throw and never grow state past its caps.</summary>
public sealed class CapturePropertyTests
{
    private static readonly int[] AllLinkTypes =
        [LinkTypes.Null, LinkTypes.Ethernet, LinkTypes.Raw, LinkTypes.Loop, LinkTypes.LinuxSll, LinkTypes.LinuxSll2, LinkTypes.Ipv4, LinkTypes.Ipv6];

    [Fact]
    public void Random_frames_never_throw_and_stay_inside_the_frame()
    {
        var random = new Random(20260101);
        var info = new PacketInfo();
        for (var i = 0; i < 200_000; i++)
        {
            var frame = new byte[random.Next(0, 200)];
            random.NextBytes(frame);
            // Make the interesting paths likely: IPv4/IPv6 version nibbles and EtherTypes.
            if (frame.Length > 20 && random.Next(2) == 0)
            {
                frame[0] = (byte)((random.Next(2) == 0 ? 0x45 : 0x60) | (frame[0] & 0x0F & (random.Next(2) == 0 ? 0 : 0x0F)));
            }
            var linkType = AllLinkTypes[random.Next(AllLinkTypes.Length)];
            if (PacketDecoder.Decode(linkType, frame, ref info) == DecodeStatus.Ok)
            {
                Assert.InRange(info.PayloadOffset, 0, frame.Length);
                Assert.InRange(info.PayloadOffset + info.PayloadLength, 0, frame.Length);
            }
        }
    }

    [Fact]
    public void Every_truncation_of_valid_tunnelled_frames_never_throws()
    {
        var hello = TlsRecords(TcpHelloReassemblerTests.Hello(500));
        byte[][] frames =
        [
            Ethernet(0x0800, Ipv4("10.0.0.1", "10.0.0.2", 6, Tcp(1, 443, 5, 0x18, hello)), (0x8100, 3)),
            Ethernet(0x86DD, Ipv6("2001:db8::1", "2001:db8::2", 0, Concat(Ipv6OptionsHeader(44), Ipv6FragmentHeader(6, 0, false), Tcp(1, 443, 5, 0x18, hello)))),
            Ethernet(0x0800, Ipv4("192.0.2.1", "192.0.2.2", 47, Gre(0x22EB, Concat(Erspan3Header(true), Ethernet(0x0800, Ipv4("10.0.0.1", "10.0.0.2", 6, Tcp(1, 443, 5, 0x18, hello)))), sequence: 1))),
            Ethernet(0x0800, Ipv4("192.0.2.1", "192.0.2.2", 17, Udp(1, 6081, Geneve(0x6558, Ethernet(0x0800, Ipv4("10.0.0.1", "10.0.0.2", 17, Udp(1, 443, hello))), new byte[8])))),
        ];
        var info = new PacketInfo();
        using var extractor = new HelloExtractor(new CaptureOptions(), new CaptureCounters(new Ja4Metrics()));
        foreach (var frame in frames)
        {
            for (var n = 0; n <= frame.Length; n++)
            {
                PacketDecoder.Decode(LinkTypes.Ethernet, frame.AsSpan(0, n), ref info);
                extractor.Process(LinkTypes.Ethernet, frame.AsSpan(0, n), n, out _, out _);
            }
        }
    }

    [Fact]
    public void Random_segments_never_throw_and_respect_the_caps()
    {
        const int maxFlows = 64, maxHello = 4096;
        var random = new Random(7);
        var counters = new CaptureCounters(new Ja4Metrics());
        var r = new TcpHelloReassembler(new ReassemblyLimits(maxFlows, maxHello, TimeSpan.FromSeconds(5), 64, TimeSpan.FromSeconds(30)), counters);
        var hello = TlsRecords(TcpHelloReassemblerTests.Hello(3000));
        var info = new PacketInfo { Protocol = 6 };
        for (var i = 0; i < 100_000; i++)
        {
            info.Src = new IpAddr(0, 0x0000_FFFF_0A00_0000UL | (uint)random.Next(8));
            info.Dst = new IpAddr(0, 0x0000_FFFF_0A00_0100UL | (uint)random.Next(4));
            info.SrcPort = (ushort)random.Next(1, 40);
            info.DstPort = (ushort)random.Next(1, 4);
            info.Seq = (uint)random.Next(0, 6000);
            info.TcpFlags = (byte)random.Next(0, 64);
            byte[] payload;
            switch (random.Next(4))
            {
                case 0:
                    payload = [];
                    break;
                case 1:
                    // A slice of a real hello stream, possibly at a lying offset.
                    var start = random.Next(hello.Length);
                    payload = hello.AsSpan(start, Math.Min(random.Next(1, 1500), hello.Length - start)).ToArray();
                    break;
                case 2:
                    // A record header that lies about its lengths.
                    payload = Concat([22, 3, (byte)random.Next(6)], U16(random.Next(65536)), [1], U16(random.Next(65536)), new byte[random.Next(100)]);
                    random.NextBytes(payload.AsSpan(8));
                    break;
                default:
                    payload = new byte[random.Next(1, 1500)];
                    random.NextBytes(payload);
                    break;
            }
            r.Process(info, payload, i * 1000L, out _);
            Assert.True(r.FlowCount <= maxFlows);
        }
        Assert.True(r.BufferedBytes <= (long)maxFlows * maxHello);
    }

    [Fact]
    public void Random_quic_like_datagrams_never_throw()
    {
        var random = new Random(99);
        var counters = new CaptureCounters(new Ja4Metrics());
        using var assembler = new QuicHelloAssembler(32, 65536, TimeSpan.FromSeconds(10), counters);
        var flow = new FlowId(new IpAddr(0, 1), 1, new IpAddr(0, 2), 443);
        for (var i = 0; i < 20_000; i++)
        {
            var d = new byte[random.Next(0, 1400)];
            random.NextBytes(d);
            if (d.Length > 8)
            {
                // Long header, Initial type, version 1 or 2, plausible CID lengths.
                d[0] = (byte)(0xC0 | (random.Next(4) << 4) | (d[0] & 0x0F));
                U32(random.Next(2) == 0 ? QuicVersions.V1 : QuicVersions.V2).CopyTo(d, 1);
                d[5] = (byte)random.Next(0, 24);
            }
            assembler.Process(flow, d, i);
        }
        Assert.True(assembler.FlowCount <= 32);
    }
}
