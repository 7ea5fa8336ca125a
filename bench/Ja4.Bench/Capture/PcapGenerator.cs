using System.Buffers.Binary;
using System.Globalization;

namespace Ja4.Bench.Capture;

/// <summary>
/// Writes a deterministic (seeded) pcap of TLS traffic for the capture benchmark: many concurrent
/// connections, each with its TCP handshake, a ClientHello of one of several shapes (Chrome's
/// spans two segments; some hellos arrive out of order), a ServerHello, then bulk data and ACKs,
/// then FIN; plus plaintext HTTP connections without any hello. About 15 % of the packets belong
/// to handshakes.
/// </summary>
public sealed class PcapGenerator : IMeasurement
{
    public string Name => "capture-pcapgen";
    public string Description => "write the capture benchmark pcap: capture-pcapgen OUT [--packets N] [--seed S]";

    private const int Mss = 1448;
    private const int ActiveConnections = 2000;

    public Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: capture-pcapgen OUT [--packets N] [--seed S]");
            return Task.FromResult(2);
        }
        var packets = 1_500_000L;
        var seed = 4242;
        for (var i = 1; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--packets": packets = long.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--seed": seed = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
            }
        }
        var stats = Generate(args[0], packets, seed);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"PCAPGEN packets={stats.Packets} hellos={stats.Hellos} handshake_packets={stats.HandshakePackets} connections={stats.Connections} bytes={new FileInfo(args[0]).Length}"));
        return Task.FromResult(0);
    }

    public sealed record Stats(long Packets, long Hellos, long HandshakePackets, long Connections);

    public static Stats Generate(string path, long targetPackets, int seed)
    {
        var random = new Random(seed);
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        var writer = new PcapWriter(file);
        var active = new List<Connection>(ActiveConnections);
        long hellos = 0, handshakePackets = 0, connections = 0;
        var time = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
        while (writer.Packets < targetPackets)
        {
            while (active.Count < ActiveConnections)
            {
                active.Add(new Connection(random, connections++));
            }
            var i = random.Next(active.Count);
            var c = active[i];
            time += random.Next(2, 20) * TimeSpan.TicksPerMicrosecond;
            var packet = c.Next(random);
            if (packet is null)
            {
                active[i] = active[^1];
                active.RemoveAt(active.Count - 1);
                continue;
            }
            var p = packet.Value;
            writer.Write(time, c, p.FromClient, p.Seq, p.Ack, p.Flags, p.Payload);
            if (p.Handshake)
            {
                handshakePackets++;
            }
            if (p.CompletesHello)
            {
                hellos++;
            }
        }
        writer.Flush();
        return new Stats(writer.Packets, hellos, handshakePackets, connections);
    }

    private readonly record struct Packet(bool FromClient, uint Seq, uint Ack, byte Flags, byte[] Payload, bool Handshake, bool CompletesHello);

    private sealed class Connection
    {
        private const byte Fin = 0x01, Syn = 0x02, Psh = 0x08, Ack = 0x10;
        private readonly Queue<Func<Random, Packet>> _script = new();
        private uint _clientSeq;
        private uint _serverSeq;

        public Connection(Random r, long index)
        {
            ClientIp = 0x0A000000u | (uint)r.Next(1, 1 << 22);
            ServerIp = (r.Next(2) == 0 ? 0xC0000200u : 0xC6336400u) | (uint)r.Next(1, 50);
            ClientPort = (ushort)r.Next(32768, 61000);
            var tls = r.Next(10) != 0;
            ServerPort = tls ? (ushort)(r.Next(8) == 0 ? 8443 : 443) : (ushort)80;
            var isn = (uint)r.Next();
            var serverIsn = (uint)r.Next();
            _clientSeq = isn + 1;
            _serverSeq = serverIsn + 1;
            _script.Enqueue(_ => new Packet(true, isn, 0, Syn, [], true, false));
            _script.Enqueue(_ => new Packet(false, serverIsn, isn + 1, Syn | Ack, [], true, false));
            _script.Enqueue(_ => Send(true, Ack, [], handshake: true));
            if (tls)
            {
                var shape = (int)(index % HelloShapes.Count);
                var hello = HelloShapes.Build(shape, r, $"host{r.Next(5000)}.example.com");
                var record = HelloShapes.Concat([22, 3, 1], HelloShapes.U16(hello.Length), hello);
                var segments = new List<(uint Offset, byte[] Data)>();
                for (var o = 0; o < record.Length; o += Mss)
                {
                    segments.Add(((uint)o, record.AsSpan(o, Math.Min(Mss, record.Length - o)).ToArray()));
                }
                if (segments.Count > 1 && r.Next(10) == 0)
                {
                    segments.Reverse(); // out of order on the wire
                }
                var start = isn + 1;
                var end = start + (uint)record.Length;
                for (var s = 0; s < segments.Count; s++)
                {
                    var (offset, data) = segments[s];
                    var last = s == segments.Count - 1;
                    _script.Enqueue(_ =>
                    {
                        if (last)
                        {
                            _clientSeq = end;
                        }
                        return new Packet(true, start + offset, _serverSeq, Psh | Ack, data, true, last);
                    });
                }
                _script.Enqueue(rr =>
                {
                    var serverHello = new byte[rr.Next(1100, 1400)];
                    rr.NextBytes(serverHello);
                    serverHello[0] = 22; serverHello[1] = 3; serverHello[2] = 3;
                    BinaryPrimitives.WriteUInt16BigEndian(serverHello.AsSpan(3), (ushort)(serverHello.Length - 5));
                    serverHello[5] = 2;
                    return Send(false, Psh | Ack, serverHello, handshake: true);
                });
                _script.Enqueue(_ => Send(true, Ack, [], handshake: true));
                _script.Enqueue(rr =>
                {
                    var finished = new byte[80];
                    rr.NextBytes(finished);
                    finished[0] = 0x14; finished[1] = 3; finished[2] = 3; finished[3] = 0; finished[4] = 1; finished[5] = 1;
                    finished[6] = 0x17; finished[7] = 3; finished[8] = 3; finished[9] = 0; finished[10] = 69;
                    return Send(true, Psh | Ack, finished, handshake: true);
                });
            }
            var bulk = r.Next(20, 36);
            for (var b = 0; b < bulk; b++)
            {
                _script.Enqueue(rr => Send(false, Ack, Data(rr, tls), handshake: false));
                if (b % 2 == 1)
                {
                    _script.Enqueue(_ => Send(true, Ack, [], handshake: false));
                }
                if (b % 9 == 4)
                {
                    _script.Enqueue(rr => Send(true, Psh | Ack, Data(rr, tls, 400), handshake: false));
                }
            }
            _script.Enqueue(_ => Send(true, Fin | Ack, [], handshake: false, advance: 1));
            _script.Enqueue(_ => Send(false, Fin | Ack, [], handshake: false, advance: 1));
            _script.Enqueue(_ => Send(true, Ack, [], handshake: false));
        }

        public uint ClientIp { get; }
        public uint ServerIp { get; }
        public ushort ClientPort { get; }
        public ushort ServerPort { get; }

        public Packet? Next(Random r) => _script.Count == 0 ? null : _script.Dequeue()(r);

        private static byte[] Data(Random r, bool tls, int max = 1400)
        {
            var data = new byte[r.Next(200, max)];
            r.NextBytes(data.AsSpan(0, Math.Min(64, data.Length)));
            if (tls)
            {
                data[0] = 0x17; data[1] = 3; data[2] = 3;
                BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(3), (ushort)(data.Length - 5));
            }
            else
            {
                data[0] = (byte)'H';
            }
            return data;
        }

        private Packet Send(bool fromClient, int flags, byte[] payload, bool handshake, uint advance = 0)
        {
            var seq = fromClient ? _clientSeq : _serverSeq;
            var ack = fromClient ? _serverSeq : _clientSeq;
            var step = (uint)payload.Length + advance;
            if (fromClient)
            {
                _clientSeq += step;
            }
            else
            {
                _serverSeq += step;
            }
            return new Packet(fromClient, seq, ack, (byte)flags, payload, handshake, false);
        }
    }

    /// <summary>Classic pcap (microseconds, Ethernet) writer.</summary>
    private sealed class PcapWriter
    {
        private readonly Stream _out;
        private readonly byte[] _buffer = new byte[16 + 14 + 20 + 20 + 65536];

        public PcapWriter(Stream output)
        {
            _out = output;
            Span<byte> h = stackalloc byte[24];
            BinaryPrimitives.WriteUInt32LittleEndian(h, 0xa1b2c3d4);
            BinaryPrimitives.WriteUInt16LittleEndian(h[4..], 2);
            BinaryPrimitives.WriteUInt16LittleEndian(h[6..], 4);
            BinaryPrimitives.WriteUInt32LittleEndian(h[16..], 65535);
            BinaryPrimitives.WriteUInt32LittleEndian(h[20..], 1);
            _out.Write(h);
        }

        public long Packets { get; private set; }

        public void Write(long ticks, Connection c, bool fromClient, uint seq, uint ack, byte flags, byte[] payload)
        {
            var frameLength = 14 + 20 + 20 + payload.Length;
            var b = _buffer.AsSpan(0, 16 + frameLength);
            var unix = ticks - DateTime.UnixEpoch.Ticks;
            BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)(unix / TimeSpan.TicksPerSecond));
            BinaryPrimitives.WriteUInt32LittleEndian(b[4..], (uint)(unix % TimeSpan.TicksPerSecond / 10));
            BinaryPrimitives.WriteUInt32LittleEndian(b[8..], (uint)frameLength);
            BinaryPrimitives.WriteUInt32LittleEndian(b[12..], (uint)frameLength);
            var f = b[16..];
            f[..12].Fill(0);
            f[5] = fromClient ? (byte)1 : (byte)2;
            f[11] = fromClient ? (byte)2 : (byte)1;
            BinaryPrimitives.WriteUInt16BigEndian(f[12..], 0x0800);
            var ip = f[14..];
            ip[0] = 0x45; ip[1] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(40 + payload.Length));
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)Packets);
            BinaryPrimitives.WriteUInt16BigEndian(ip[6..], 0x4000);
            ip[8] = 64; ip[9] = 6;
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], 0);
            BinaryPrimitives.WriteUInt32BigEndian(ip[12..], fromClient ? c.ClientIp : c.ServerIp);
            BinaryPrimitives.WriteUInt32BigEndian(ip[16..], fromClient ? c.ServerIp : c.ClientIp);
            var tcp = ip[20..];
            BinaryPrimitives.WriteUInt16BigEndian(tcp, fromClient ? c.ClientPort : c.ServerPort);
            BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], fromClient ? c.ServerPort : c.ClientPort);
            BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], seq);
            BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], ack);
            tcp[12] = 0x50; tcp[13] = flags;
            BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], 65535);
            BinaryPrimitives.WriteUInt32BigEndian(tcp[16..], 0);
            payload.CopyTo(tcp[20..]);
            _out.Write(b);
            Packets++;
        }

        public void Flush() => _out.Flush();
    }
}
