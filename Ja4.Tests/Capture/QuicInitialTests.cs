using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using Ja4.Modules.Capture;
using Ja4.Modules.Capture.Decoding;
using Ja4.Modules.Capture.Quic;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Core.Metrics;
using static Ja4.Tests.Capture.PacketBuilder;

namespace Ja4.Tests.Capture;

/// <summary>QUIC Initial decryption against RFC 9001 Appendix A and RFC 9369 Appendix A.</summary>
public sealed class QuicInitialTests
{
    private static readonly byte[] RfcDcid = Convert.FromHexString("8394c8f03e515708");
    private readonly CaptureCounters _counters = new(new Ja4Metrics());
    private static readonly FlowId Flow = new(IpAddr.From(IPAddress.Parse("10.0.0.1")), 50000, IpAddr.From(IPAddress.Parse("10.0.0.2")), 443);

    /// <summary>RFC 9001 §A.1 and RFC 9369 §A.1: keys for DCID 0x8394c8f03e515708.</summary>
    [Theory]
    [InlineData(QuicVersions.V1, "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea",
        "1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c", "9f50449e04a0e810283a1e9933adedd2")]
    [InlineData(QuicVersions.V2, "14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b",
        "8b1a0bc121284290a29e0971b5cd045d", "91f73e2351d8fa91660e909f", "45b95e15235d6f45a6b19cbcb0294ba9")]
    public void Client_initial_keys_match_the_rfc(uint version, string secret, string key, string iv, string hp)
    {
        var s = new byte[32];
        QuicInitialProtection.ClientInitialSecret(version, RfcDcid, s);
        Assert.Equal(secret, Convert.ToHexStringLower(s));
        using var p = QuicInitialProtection.ForClient(version, RfcDcid);
        Assert.Equal(key, Convert.ToHexStringLower(p.Key));
        Assert.Equal(iv, Convert.ToHexStringLower(p.Iv));
        Assert.Equal(hp, Convert.ToHexStringLower(p.HeaderKey));
    }

    /// <summary>RFC 9001 §A.2: the protected client Initial decrypts to its CRYPTO frame's ClientHello.</summary>
    [Fact]
    public void Rfc9001_client_initial_packet_yields_its_client_hello()
    {
        var packet = Convert.FromHexString(string.Concat(Rfc9001ClientInitial));
        Assert.Equal(1200, packet.Length);
        var cryptoFrame = Convert.FromHexString(Rfc9001CryptoFrame);
        // CRYPTO frame: type 0x06, offset 0, length 0x40f1 (241), then the ClientHello.
        var expectedHello = cryptoFrame[4..];
        Assert.Equal(241, expectedHello.Length);

        using var assembler = new QuicHelloAssembler(16, 65536, TimeSpan.FromSeconds(10), _counters);
        var hello = assembler.Process(Flow, packet, 0);
        Assert.Equal(expectedHello, hello);
    }

    [Fact]
    public void Rfc9001_packet_through_the_whole_packet_path()
    {
        var datagram = Convert.FromHexString(string.Concat(Rfc9001ClientInitial));
        var frame = Ethernet(0x0800, Ipv4("10.0.0.1", "10.0.0.2", 17, Udp(50000, 4433, datagram)));
        using var extractor = new HelloExtractor(new CaptureOptions(), _counters);
        Assert.True(extractor.Process(LinkTypes.Ethernet, frame, DateTimeOffset.UnixEpoch.UtcTicks, out var hello, out _));
        Assert.Equal(Transport.Udp, hello!.Transport);
        var e = HelloFingerprinting.ToEvent(hello, _counters, out _)!;
        Assert.Equal("example.com", e.Sni);
        Assert.StartsWith("q13d", e.Ja4);
    }

    [Fact]
    public void Corrupted_packet_is_counted_not_decrypted()
    {
        var packet = Convert.FromHexString(string.Concat(Rfc9001ClientInitial));
        packet[700] ^= 0xFF;
        using var assembler = new QuicHelloAssembler(16, 65536, TimeSpan.FromSeconds(10), _counters);
        Assert.Null(assembler.Process(Flow, packet, 0));
        Assert.Equal(1, _counters.QuicUndecryptable.Value);
        Assert.Equal(0, assembler.FlowCount);
    }

    [Theory]
    [InlineData(QuicVersions.V1)]
    [InlineData(QuicVersions.V2)]
    public void Crypto_frames_reassembled_across_packets_out_of_order(uint version)
    {
        var hello = TcpHelloReassemblerTests.Hello(2500, "quic.example");
        // Two packets: the second half first, with PING and an ACK; coalesced padding after.
        var first = Concat(CryptoFrame(0, hello[..1100]), [0x01], new byte[20]);
        var second = Concat([0x02, 0x00, 0x00, 0x00, 0x00], CryptoFrame(1100, hello[1100..]), [0x01]);
        using var assembler = new QuicHelloAssembler(16, 65536, TimeSpan.FromSeconds(10), _counters);
        Assert.Null(assembler.Process(Flow, Protect(version, 1, second), 0));
        Assert.Equal(hello, assembler.Process(Flow, Protect(version, 0, first), 1));
        // Later Initials of the connection are ignored.
        Assert.Null(assembler.Process(Flow, Protect(version, 2, [0x01, 0, 0, 0]), 2));
    }

    [Fact]
    public void Coalesced_initials_in_one_datagram()
    {
        var hello = TcpHelloReassemblerTests.Hello(900, "coalesced.example");
        var datagram = Concat(Protect(QuicVersions.V1, 0, CryptoFrame(0, hello[..400])),
            Protect(QuicVersions.V1, 1, CryptoFrame(400, hello[400..])), new byte[40]);
        using var assembler = new QuicHelloAssembler(16, 65536, TimeSpan.FromSeconds(10), _counters);
        Assert.Equal(hello, assembler.Process(Flow, datagram, 0));
    }

    [Fact]
    public void Crypto_frames_in_scrambled_order_within_one_packet()
    {
        // Chrome sends CRYPTO fragments out of order inside one Initial, between PING and PADDING.
        var hello = TcpHelloReassemblerTests.Hello(600, "chaos.example");
        var payload = Concat(CryptoFrame(300, hello[300..]), [0x01, 0x00, 0x00], CryptoFrame(0, hello[..150]),
            [0x01], CryptoFrame(150, hello[150..300]), new byte[30]);
        using var assembler = new QuicHelloAssembler(16, 65536, TimeSpan.FromSeconds(10), _counters);
        Assert.Equal(hello, assembler.Process(Flow, Protect(QuicVersions.V1, 0, payload), 0));
    }

    [Fact]
    public void Flow_cap_and_idle_expiry_bound_quic_state()
    {
        var hello = TcpHelloReassemblerTests.Hello(2500);
        using var assembler = new QuicHelloAssembler(4, 65536, TimeSpan.FromSeconds(10), _counters);
        for (ushort port = 1; port <= 10; port++)
        {
            var flow = new FlowId(Flow.Src, port, Flow.Dst, 443);
            Assert.Null(assembler.Process(flow, Protect(QuicVersions.V1, 0, CryptoFrame(0, hello[..1000])), port));
        }
        Assert.Equal(4, assembler.FlowCount);
        Assert.Equal(6, _counters.QuicGiveUps.Value);
        assembler.ExpireIdle(TimeSpan.FromMinutes(1).Ticks);
        Assert.Equal(0, assembler.FlowCount);
    }

    private static byte[] CryptoFrame(int offset, byte[] data) => Concat([0x06], Varint(offset), Varint(data.Length), data);

    private static byte[] Varint(int v) => v < 64 ? [(byte)v] : [(byte)(0x40 | (v >> 8)), (byte)v];

    /// <summary>
    /// Protects an Initial packet (RFC 9001 §5.3, §5.4) with the published keys for DCID
    /// 0x8394c8f03e515708 (RFC 9001 §A.1, RFC 9369 §A.1), independently of the code under test.
    /// </summary>
    private static byte[] Protect(uint version, uint packetNumber, byte[] payload)
    {
        var (key, iv, hp) = version == QuicVersions.V1
            ? ("1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c", "9f50449e04a0e810283a1e9933adedd2")
            : ("8b1a0bc121284290a29e0971b5cd045d", "91f73e2351d8fa91660e909f", "45b95e15235d6f45a6b19cbcb0294ba9");
        var type = version == QuicVersions.V1 ? 0 : 1;
        // Packet number length 4; the Length field covers packet number, payload and tag.
        var length = 4 + payload.Length + 16;
        var header = Concat([(byte)(0xC0 | (type << 4) | 0x03)], U32(version), [(byte)RfcDcid.Length], RfcDcid, [0],
            [0], [(byte)(0x40 | (length >> 8)), (byte)length], U32(packetNumber));
        var nonce = Convert.FromHexString(iv);
        for (var i = 0; i < 4; i++)
        {
            nonce[8 + i] ^= (byte)(packetNumber >> (24 - 8 * i));
        }
        var cipher = new byte[payload.Length];
        var tag = new byte[16];
        using (var gcm = new AesGcm(Convert.FromHexString(key), 16))
        {
            gcm.Encrypt(nonce, payload, cipher, tag, header);
        }
        var packet = Concat(header, cipher, tag);
        var pnOffset = header.Length - 4;
        using var aes = Aes.Create();
        aes.Key = Convert.FromHexString(hp);
        var mask = aes.EncryptEcb(packet.AsSpan(pnOffset + 4, 16).ToArray(), PaddingMode.None);
        packet[0] ^= (byte)(mask[0] & 0x0F);
        for (var i = 0; i < 4; i++)
        {
            packet[pnOffset + i] ^= mask[1 + i];
        }
        return packet;
    }

    /// <summary>RFC 9001 §A.2, the unprotected CRYPTO frame (the ClientHello at offset 0).</summary>
    private const string Rfc9001CryptoFrame =
        "060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868" +
        "04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578" +
        "616d706c652e636f6dff01000100000a00080006001d00170018001000070005" +
        "04616c706e000500050100000000003300260024001d00209370b2c9caa47fba" +
        "baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400" +
        "0d0010000e0403050306030203080408050806002d00020101001c0002400100" +
        "3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000" +
        "75300901100f088394c8f03e51570806048000ffff";

    /// <summary>RFC 9001 §A.2, the protected client Initial packet (1200 bytes).</summary>
    private static readonly string[] Rfc9001ClientInitial =
    [
        "c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11",
        "d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399",
        "1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c",
        "8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212",
        "30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5",
        "457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208",
        "4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec",
        "4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3",
        "485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db",
        "059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c",
        "7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8",
        "9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556",
        "be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74",
        "68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a",
        "c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00",
        "f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632",
        "291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964",
        "25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd",
        "14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff",
        "ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198",
        "e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd",
        "c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73",
        "203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f",
        "cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e",
        "fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade",
        "a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047",
        "90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2",
        "162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4",
        "40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0",
        "6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e",
        "8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0",
        "be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400",
        "54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab",
        "760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9",
        "f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4",
        "056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064",
        "7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241",
        "e221af44860018ab0856972e194cd934",
    ];
}
