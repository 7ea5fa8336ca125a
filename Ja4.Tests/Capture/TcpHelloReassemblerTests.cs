using System.Net;
using Ja4.Modules.Capture;
using Ja4.Modules.Capture.Decoding;
using Ja4.Modules.Capture.Reassembly;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Core.Metrics;
using Ja4.Tests.Fingerprints;
using static Ja4.Tests.Capture.PacketBuilder;

namespace Ja4.Tests.Capture;

// Million_syns_stay_bounded measures the process's managed heap: no other test may allocate meanwhile.
[Collection(HeapMeasurement.Name)]
public sealed class TcpHelloReassemblerTests
{
    private const byte Syn = 0x02, Ack = 0x10, Psh = 0x08, Fin = 0x01, Rst = 0x04;
    private static readonly long T0 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks;

    private readonly CaptureCounters _counters = new(new Ja4Metrics());

    private TcpHelloReassembler Create(int maxFlows = 1024, int maxHelloBytes = 65536, int maxConnections = 1024,
        double flowIdleSeconds = 10, double connectionIdleSeconds = 300) =>
        new(new ReassemblyLimits(maxFlows, maxHelloBytes, TimeSpan.FromSeconds(flowIdleSeconds), maxConnections,
            TimeSpan.FromSeconds(connectionIdleSeconds)), _counters);

    /// <summary>A ClientHello of about <paramref name="size"/> bytes (padding extension 21 fills it up).</summary>
    internal static byte[] Hello(int size = 300, string sni = "example.com")
    {
        var b = new ClientHelloBuilder();
        b.Ciphers.AddRange([0x1301, 0x1302, 0xc02b]);
        b.ServerName(sni);
        var basic = b.Build().Length;
        var pad = Math.Max(0, size - basic - 4);
        b.Extension(0x0015, new byte[pad]);
        return b.Build();
    }

    private sealed record Seg(uint Seq, byte Flags, byte[] Payload, bool FromServer = false, double At = 0);

    private byte[]? Feed(TcpHelloReassembler r, Seg s, out ClosedConnection? closed,
        string client = "10.0.0.1", ushort clientPort = 50000, string server = "10.0.0.2", ushort serverPort = 443)
    {
        var c = IpAddr.From(IPAddress.Parse(client));
        var v = IpAddr.From(IPAddress.Parse(server));
        var info = new PacketInfo
        {
            Src = s.FromServer ? v : c, Dst = s.FromServer ? c : v,
            SrcPort = s.FromServer ? serverPort : clientPort, DstPort = s.FromServer ? clientPort : serverPort,
            Protocol = 6, Seq = s.Seq, TcpFlags = s.Flags, PayloadLength = s.Payload.Length,
        };
        return r.Process(info, s.Payload, T0 + (long)(s.At * TimeSpan.TicksPerSecond), out closed);
    }

    private List<byte[]> FeedAll(TcpHelloReassembler r, IEnumerable<Seg> segments)
    {
        var hellos = new List<byte[]>();
        foreach (var s in segments)
        {
            if (Feed(r, s, out _) is { } h)
            {
                hellos.Add(h);
            }
        }
        return hellos;
    }

    /// <summary>Splits the client's stream into segments of <paramref name="size"/> bytes starting at ISN+1.</summary>
    private static List<Seg> Split(byte[] stream, int size, uint isn = 1000)
    {
        var list = new List<Seg>();
        for (var i = 0; i < stream.Length; i += size)
        {
            list.Add(new Seg(isn + 1 + (uint)i, Ack | Psh, stream.AsSpan(i, Math.Min(size, stream.Length - i)).ToArray()));
        }
        return list;
    }

    [Fact]
    public void Single_segment_hello()
    {
        var hello = Hello();
        var r = Create();
        var found = FeedAll(r, [new Seg(1000, Syn, []), new Seg(1001, Ack | Psh, TlsRecords(hello))]);
        Assert.Equal(hello, Assert.Single(found));
        Assert.Equal(0, r.FlowCount);
        Assert.Equal(1, r.ConnectionCount);
    }

    [Fact]
    public void Hello_over_many_segments_in_order()
    {
        var hello = Hello(3000);
        var segments = Split(TlsRecords(hello), 500);
        Assert.True(segments.Count >= 6);
        var found = FeedAll(Create(), segments.Prepend(new Seg(1000, Syn, [])));
        Assert.Equal(hello, Assert.Single(found));
    }

    [Fact]
    public void Out_of_order_segments_after_a_syn()
    {
        var hello = Hello(2000);
        var s = Split(TlsRecords(hello), 700);
        Assert.Equal(3, s.Count);
        var found = FeedAll(Create(), [new Seg(1000, Syn, []), s[2], s[0], s[1]]);
        Assert.Equal(hello, Assert.Single(found));
    }

    [Fact]
    public void Retransmitted_segments_are_ignored()
    {
        var hello = Hello(2000);
        var s = Split(TlsRecords(hello), 700);
        var found = FeedAll(Create(), [new Seg(1000, Syn, []), s[0], s[0], s[1], s[0], s[1], s[2], s[2]]);
        Assert.Equal(hello, Assert.Single(found));
    }

    [Fact]
    public void Overlapping_segments_are_trimmed()
    {
        var stream = TlsRecords(Hello(2000));
        // [0,800) then [500,1500) overlapping, then [1400,end) overlapping again, the middle one late.
        var a = new Seg(1001, Ack, stream[..800]);
        var b = new Seg(1001 + 500, Ack, stream[500..1500]);
        var c = new Seg(1001 + 1400, Ack, stream[1400..]);
        var found = FeedAll(Create(), [new Seg(1000, Syn, []), a, c, b]);
        Assert.Equal(Hello(2000), Assert.Single(found));
    }

    [Fact]
    public void Handshake_fragmented_over_several_records_and_segments()
    {
        var hello = Hello(1500);
        // Records of 100 bytes: the 4-byte handshake header and the body straddle record boundaries.
        var stream = TlsRecords(hello, 100);
        var found = FeedAll(Create(), Split(stream, 333).Prepend(new Seg(1000, Syn, [])));
        Assert.Equal(hello, Assert.Single(found));
    }

    [Fact]
    public void Handshake_header_split_across_records()
    {
        var hello = Hello(400);
        var stream = Concat(Concat([22, 3, 1], U16(2), hello[..2]), Concat([22, 3, 1], U16(hello.Length - 2), hello[2..]));
        var found = FeedAll(Create(), Split(stream, 3).Prepend(new Seg(1000, Syn, [])));
        Assert.Equal(hello, Assert.Single(found));
    }

    [Fact]
    public void Tcp_fast_open_hello_in_the_syn_continues_in_later_segments()
    {
        var hello = Hello(2500);
        var stream = TlsRecords(hello);
        // The SYN (seq 1000) carries the first 1000 bytes, which start at sequence 1001.
        var found = FeedAll(Create(), [new Seg(1000, Syn, stream[..1000]), new Seg(2001, Ack, stream[1000..])]);
        Assert.Equal(hello, Assert.Single(found));
    }

    [Fact]
    public void Hello_found_without_syn_and_on_any_port()
    {
        var hello = Hello();
        var r = Create();
        var found = Feed(r, new Seg(77, Ack | Psh, TlsRecords(hello)), out _, clientPort: 8443, serverPort: 5228);
        Assert.Equal(hello, found);
    }

    [Fact]
    public void Sender_of_the_hello_is_the_client_even_from_a_low_port()
    {
        var extractor = new HelloExtractor(new CaptureOptions(), _counters);
        var frame = Ethernet(0x0800, Ipv4("10.0.0.9", "10.0.0.1", 6, Tcp(443, 61000, 5, Ack | Psh, TlsRecords(Hello()))));
        Assert.True(extractor.Process(LinkTypes.Ethernet, frame, T0, out var hello, out _));
        Assert.Equal("10.0.0.9", hello!.Flow.Src.ToString());
        Assert.Equal(443, hello.Flow.SrcPort);
        Assert.Equal(61000, hello.Flow.DstPort);
        Assert.Equal(Transport.Tcp, hello.Transport);
    }

    [Fact]
    public void Tls_after_a_plaintext_preamble_is_found()
    {
        // HTTP CONNECT: the client's stream starts with text, the hello follows the proxy's answer.
        var hello = Hello();
        var connect = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"u8.ToArray();
        var r = Create();
        var found = FeedAll(r,
        [
            new Seg(1000, Syn, []),
            new Seg(1001, Ack | Psh, connect),
            new Seg(5000, Ack | Psh, "HTTP/1.1 200 Connection established\r\n\r\n"u8.ToArray(), FromServer: true),
            new Seg(1001 + (uint)connect.Length, Ack | Psh, TlsRecords(hello)),
        ]);
        Assert.Equal(hello, Assert.Single(found));
        Assert.Equal(1, _counters.GiveUps(GiveUpReason.NotTls));
    }

    [Fact]
    public void Non_hello_handshake_is_given_up()
    {
        var serverHelloLike = Concat([22, 3, 3], U16(6), [2, 0, 0, 2, 3, 3]);
        var r = Create();
        FeedAll(r, [new Seg(1000, Syn, []), new Seg(1001, Ack | Psh, serverHelloLike)]);
        Assert.Equal(1, _counters.GiveUps(GiveUpReason.NotClientHello));
        Assert.Equal(0, r.FlowCount);
    }

    [Fact]
    public void Announced_hello_larger_than_the_cap_is_given_up()
    {
        var r = Create(maxHelloBytes: 4096);
        var header = Concat([22, 3, 1], U16(16384), [1, 0x00, 0x80, 0x00], new byte[100]);
        FeedAll(r, [new Seg(1000, Syn, []), new Seg(1001, Ack, header)]);
        Assert.Equal(1, _counters.GiveUps(GiveUpReason.TooLarge));
        Assert.Equal(0, r.FlowCount);
    }

    [Fact]
    public void Out_of_order_bytes_beyond_the_cap_are_given_up()
    {
        var r = Create(maxHelloBytes: 2048);
        // A gap at the start; later segments pile up beyond the cap.
        FeedAll(r, [new Seg(1000, Syn, []), new Seg(1001 + 100, Ack, new byte[1000]), new Seg(1001 + 1100, Ack, new byte[1000])]);
        Assert.Equal(2000, r.BufferedBytes);
        Feed(r, new Seg(1001 + 2100, Ack, new byte[1000]), out _);
        Assert.Equal(1, _counters.GiveUps(GiveUpReason.TooLarge));
        Assert.Equal(0, r.FlowCount);
        Assert.Equal(0, r.BufferedBytes);
    }

    [Fact]
    public void Flow_cap_evicts_the_oldest()
    {
        var r = Create(maxFlows: 4);
        for (var i = 0; i < 10; i++)
        {
            Feed(r, new Seg(1000, Syn, [], At: i * 0.001), out _, clientPort: (ushort)(40000 + i));
        }
        Assert.Equal(4, r.FlowCount);
        Assert.Equal(6, _counters.GiveUps(GiveUpReason.Evicted));
        // The youngest flow still completes.
        var hello = Hello();
        Assert.Equal(hello, Feed(r, new Seg(1001, Ack, TlsRecords(hello), At: 0.02), out _, clientPort: 40009));
    }

    [Fact]
    public void Idle_flows_expire_on_packet_time()
    {
        var r = Create(flowIdleSeconds: 10);
        var stream = TlsRecords(Hello(2000));
        FeedAll(r, [new Seg(1000, Syn, []), new Seg(1001, Ack, stream[..500])]);
        Assert.Equal(1, r.FlowCount);
        // Another flow's packet 30 s later drives the clock.
        Feed(r, new Seg(1, Syn, [], At: 30), out _, clientPort: 40001);
        Assert.Equal(1, _counters.GiveUps(GiveUpReason.Idle));
        Assert.Equal(1, r.FlowCount);
        r.Sweep(T0 + TimeSpan.FromSeconds(60).Ticks);
        Assert.Equal(0, r.FlowCount);
        Assert.Equal(2, _counters.GiveUps(GiveUpReason.Idle));
    }

    [Theory]
    [InlineData(Fin)]
    [InlineData(Rst)]
    public void Fin_or_rst_before_the_hello_gives_up(byte flag)
    {
        var r = Create();
        var stream = TlsRecords(Hello(2000));
        FeedAll(r, [new Seg(1000, Syn, []), new Seg(1001, Ack, stream[..500]), new Seg(9000, (byte)(Ack | flag), [], FromServer: true)]);
        Assert.Equal(1, _counters.GiveUps(GiveUpReason.Closed));
        Assert.Equal(0, r.FlowCount);
    }

    [Fact]
    public void Second_hello_on_the_same_connection_is_not_reported()
    {
        // TLS 1.3 HelloRetryRequest: the client sends a second ClientHello on the same connection.
        var first = Hello(300, "a.example");
        var second = Hello(320, "a.example");
        var r = Create();
        var s1 = TlsRecords(first);
        var found = FeedAll(r,
        [
            new Seg(1000, Syn, []),
            new Seg(1001, Ack | Psh, s1),
            new Seg(1001 + (uint)s1.Length, Ack | Psh, TlsRecords(second)),
        ]);
        Assert.Equal(first, Assert.Single(found));
    }

    [Theory]
    [InlineData(Fin, ConnectionEndReason.Fin, true)]
    [InlineData(Rst, ConnectionEndReason.Rst, false)]
    public void Tracked_connection_reports_fin_and_rst(byte flag, ConnectionEndReason reason, bool fromServer)
    {
        var r = Create();
        FeedAll(r, [new Seg(1000, Syn, []), new Seg(1001, Ack | Psh, TlsRecords(Hello()))]);
        Assert.Null(Feed(r, new Seg(7000, Ack, new byte[100], FromServer: true), out var none));
        Assert.Null(none);
        Feed(r, new Seg(7100, (byte)(Ack | flag), [], FromServer: fromServer), out var closed);
        Assert.NotNull(closed);
        Assert.Equal(reason, closed!.Value.Reason);
        Assert.Equal("10.0.0.1", closed.Value.Flow.Src.ToString());
        Assert.Equal(50000, closed.Value.Flow.SrcPort);
        Assert.Equal(443, closed.Value.Flow.DstPort);
        Assert.Equal(0, r.ConnectionCount);
        // Only once.
        Feed(r, new Seg(7100, (byte)(Ack | flag), [], FromServer: fromServer), out var again);
        Assert.Null(again);
    }

    [Fact]
    public void Tracked_connections_are_capped_and_expire()
    {
        var r = Create(maxConnections: 3, connectionIdleSeconds: 60);
        for (var i = 0; i < 5; i++)
        {
            Feed(r, new Seg(1, Ack | Psh, TlsRecords(Hello()), At: i), out _, clientPort: (ushort)(30000 + i));
        }
        Assert.Equal(3, r.ConnectionCount);
        Assert.Equal(2, _counters.ConnectionsEvicted.Value);
        r.Sweep(T0 + TimeSpan.FromSeconds(1000).Ticks);
        Assert.Equal(0, r.ConnectionCount);
        Assert.Equal(3, _counters.ConnectionsIdle.Value);
    }

    [Fact]
    public void Million_syns_stay_bounded()
    {
        const int cap = 4096;
        var r = Create(maxFlows: cap);
        var info = new PacketInfo { Protocol = 6, TcpFlags = Syn, DstPort = 443, Dst = IpAddr.From(IPAddress.Parse("10.0.0.2")) };
        // Warm up, then measure the managed heap across a million half-open flows.
        for (var i = 0; i < cap * 2; i++)
        {
            info.Src = new IpAddr(0, 0x0000_FFFF_0A00_0000UL | (uint)i);
            r.Process(info, [], T0, out _);
        }
        var before = GC.GetTotalMemory(forceFullCollection: true);
        for (var i = 0; i < 1_000_000; i++)
        {
            info.Src = new IpAddr(0, 0x0000_FFFF_0B00_0000UL | (uint)(i >> 16));
            info.SrcPort = (ushort)i;
            info.Seq = (uint)i;
            r.Process(info, [], T0 + i, out _);
        }
        var after = GC.GetTotalMemory(forceFullCollection: true);
        Assert.Equal(cap, r.FlowCount);
        Assert.Equal(1_000_000 + cap * 2 - cap, _counters.GiveUps(GiveUpReason.Evicted));
        Assert.True(after - before < 8 * 1024 * 1024, $"heap grew by {after - before} bytes");
    }
}

/// <summary>Tests that measure the whole managed heap run alone (other tests' allocations would count).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeapMeasurement
{
    public const string Name = "heap measurement";
}
