using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using Ja4.Modules.Capture;
using Ja4.Modules.Capture.Decoding;
using Ja4.Modules.Core.Metrics;

namespace Ja4.Bench.Capture;

/// <summary>
/// The per-packet path (decode, connection tracking, reassembly lookup, QUIC check) on packets
/// that are not part of a handshake: TCP data and ACKs of fingerprinted connections, data of
/// connections without TLS, QUIC short-header packets and other UDP. Expected: 0 B allocated.
/// </summary>
[MemoryDiagnoser]
public class PacketPathBenchmarks
{
    private const int Frames = 1024;
    private readonly List<byte[]> _tcp = [];
    private readonly List<byte[]> _udp = [];
    private HelloExtractor _extractor = null!;
    private long _ticks = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;

    [GlobalSetup]
    public void Setup()
    {
        _extractor = new HelloExtractor(new CaptureOptions(), new CaptureCounters(new Ja4Metrics()));
        var random = new Random(1);
        for (var flow = 0; flow < 64; flow++)
        {
            var client = 0x0A000000u | (uint)flow;
            var port = (ushort)(40000 + flow);
            // Half of the flows had a hello and are tracked connections.
            if (flow % 2 == 0)
            {
                var hello = HelloShapes.Build(flow % HelloShapes.Count, random, "bench.example");
                var record = HelloShapes.Concat([22, 3, 1], HelloShapes.U16(hello.Length), hello);
                _extractor.Process(LinkTypes.Ethernet, Frame(client, port, 6, 1, record), _ticks, out _, out _);
            }
        }
        for (var i = 0; i < Frames; i++)
        {
            var flow = i % 64;
            var payload = new byte[i % 3 == 0 ? 0 : 1200];
            random.NextBytes(payload);
            if (payload.Length > 0)
            {
                payload[0] = 0x17;
            }
            _tcp.Add(Frame(0x0A000000u | (uint)flow, (ushort)(40000 + flow), 6, (uint)(100000 + i * 1200), payload, fromServer: i % 2 == 0));
            var datagram = new byte[i % 2 == 0 ? 1200 : 80];
            random.NextBytes(datagram);
            datagram[0] = (byte)(i % 2 == 0 ? 0x40 : 0x00); // QUIC short header, or anything else
            _udp.Add(Frame(0x0A000000u | (uint)flow, (ushort)(40000 + flow), 17, 0, datagram));
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _extractor.Dispose();

    [Benchmark(OperationsPerInvoke = Frames)]
    public int TcpDataAndAcks()
    {
        var n = 0;
        foreach (var f in _tcp)
        {
            if (_extractor.Process(LinkTypes.Ethernet, f, _ticks++, out _, out _))
            {
                n++;
            }
        }
        return n;
    }

    [Benchmark(OperationsPerInvoke = Frames)]
    public int UdpAndQuicShortHeader()
    {
        var n = 0;
        foreach (var f in _udp)
        {
            if (_extractor.Process(LinkTypes.Ethernet, f, _ticks++, out _, out _))
            {
                n++;
            }
        }
        return n;
    }

    [Benchmark(OperationsPerInvoke = Frames)]
    public int DecodeOnly()
    {
        var info = new PacketInfo();
        var n = 0;
        foreach (var f in _tcp)
        {
            n += (int)PacketDecoder.Decode(LinkTypes.Ethernet, f, ref info);
        }
        return n;
    }

    private static byte[] Frame(uint client, ushort clientPort, byte protocol, uint seq, byte[] payload, bool fromServer = false)
    {
        const uint server = 0xC0000201;
        var l4 = protocol == 6 ? 20 : 8;
        var f = new byte[14 + 20 + l4 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), 0x0800);
        var ip = f.AsSpan(14);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(20 + l4 + payload.Length));
        BinaryPrimitives.WriteUInt16BigEndian(ip[6..], 0x4000);
        ip[8] = 64;
        ip[9] = protocol;
        BinaryPrimitives.WriteUInt32BigEndian(ip[12..], fromServer ? server : client);
        BinaryPrimitives.WriteUInt32BigEndian(ip[16..], fromServer ? client : server);
        var l = ip[20..];
        BinaryPrimitives.WriteUInt16BigEndian(l, fromServer ? (ushort)443 : clientPort);
        BinaryPrimitives.WriteUInt16BigEndian(l[2..], fromServer ? clientPort : (ushort)443);
        if (protocol == 6)
        {
            BinaryPrimitives.WriteUInt32BigEndian(l[4..], seq);
            l[12] = 0x50;
            l[13] = 0x18;
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(l[4..], (ushort)(8 + payload.Length));
        }
        payload.CopyTo(l[l4..]);
        return f;
    }
}
