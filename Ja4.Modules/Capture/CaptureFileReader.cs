using Ja4.Modules.Capture.Decoding;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Core.Metrics;
using Ja4.Modules.Fingerprints;
using SharpPcap;
using SharpPcap.LibPcap;

namespace Ja4.Modules.Capture;

/// <summary>A capture file that cannot be opened or read to its end; the message is one line for people.</summary>
public sealed class CaptureFileException(string message) : Exception(message);

/// <summary>
/// Reads a pcap or pcapng file through the same packet path as live capture
/// (<see cref="HelloExtractor"/>) and yields every ClientHello in capture order with the
/// timestamp of the packet that completed it. A read error after some packets is raised as a
/// <see cref="CaptureFileException"/> once everything read before it has been yielded.
/// </summary>
public sealed class CaptureFileReader : IDisposable
{
    /// <summary>Approximate per-record overhead in the file (pcap 16 bytes, pcapng 28 or more).</summary>
    private const int RecordOverhead = 20;

    private readonly string _path;
    private readonly HelloExtractor _extractor;
    private readonly FingerprintCache _fingerprints = new();

    public CaptureFileReader(string path, CaptureOptions? options = null, CaptureCounters? counters = null)
    {
        _path = path;
        options ??= new CaptureOptions();
        Counters = counters ?? new CaptureCounters(new Ja4Metrics());
        _extractor = new HelloExtractor(options, Counters);
    }

    public CaptureCounters Counters { get; }

    /// <summary>Packets read so far.</summary>
    public long Packets { get; private set; }

    /// <summary>Approximate bytes of the file consumed so far (for progress reports).</summary>
    public long BytesRead { get; private set; }

    /// <summary>Size of the file in bytes (0 before reading).</summary>
    public long FileSize { get; private set; }

    /// <summary>The pcap link type of the file (valid once reading has started).</summary>
    public int LinkType { get; private set; }

    /// <summary>
    /// Every ClientHello of the file that parses, fingerprinted, in capture order (hellos that do
    /// not parse are counted as <c>ja4_capture_giveup_total{reason="parse_error"}</c>).
    /// </summary>
    public IEnumerable<TlsClientHello> ReadEvents()
    {
        foreach (var captured in ReadHellos())
        {
            if (HelloFingerprinting.ToEvent(captured, Counters, out _, _fingerprints) is { } e)
            {
                yield return e;
            }
        }
    }

    /// <summary>Every ClientHello of the file, as found on the wire (not yet fingerprinted).</summary>
    public IEnumerable<CapturedHello> ReadHellos()
    {
        if (Directory.Exists(_path))
        {
            throw new CaptureFileException($"{_path}: is a directory, not a capture file");
        }
        if (!File.Exists(_path))
        {
            throw new CaptureFileException($"{_path}: no such file");
        }
        FileSize = new FileInfo(_path).Length;
        CaptureFileReaderDevice device;
        try
        {
            device = new CaptureFileReaderDevice(_path);
            device.Open();
        }
        catch (PcapException e)
        {
            throw new CaptureFileException($"{_path}: not a readable pcap/pcapng file ({Clean(e.Message)})");
        }
        catch (DllNotFoundException)
        {
            throw new CaptureFileException("libpcap is not installed (apt-get install libpcap0.8)");
        }
        using (device)
        {
            LinkType = (int)device.LinkType;
            if (!LinkTypes.IsSupported(LinkType))
            {
                throw new CaptureFileException($"{_path}: link type {LinkType} is not supported (Ethernet, Linux SLL/SLL2, raw IP and BSD loopback are)");
            }
            var handle = device.Handle;
            var added = false;
            try
            {
                handle.DangerousAddRef(ref added);
                var pcap = handle.DangerousGetHandle();
                while (true)
                {
                    var status = PcapRecord.Next(pcap, out var header, out var data);
                    if (status == PcapRecord.NoRemainingPackets)
                    {
                        yield break;
                    }
                    if (status != PcapRecord.PacketRead)
                    {
                        throw new CaptureFileException(ReadError(device.LastError));
                    }
                    Packets++;
                    var frame = PcapRecord.Data(header, data);
                    BytesRead += frame.Length + RecordOverhead;
                    var ticks = PcapRecord.TimestampTicks(header);
                    if (_extractor.Process(LinkType, frame, ticks, out var hello, out _) && hello is not null)
                    {
                        yield return hello;
                    }
                }
            }
            finally
            {
                if (added)
                {
                    handle.DangerousRelease();
                }
            }
        }
    }

    private string ReadError(string libpcapMessage)
    {
        var message = Clean(libpcapMessage);
        if (message.Contains("different from the type", StringComparison.OrdinalIgnoreCase)
            || message.Contains("has a type", StringComparison.OrdinalIgnoreCase))
        {
            return $"{_path}: pcapng interfaces have different link types, which libpcap cannot read " +
                   $"({message}); split it per interface first (e.g. tshark -r FILE -w OUT -Y 'frame.interface_id==0')" +
                   (Packets > 0 ? $" after {Packets} packets" : "");
        }
        return Packets == 0
            ? $"{_path}: cannot read packets ({message})"
            : $"{_path}: truncated or corrupt after {Packets} packets ({message})";
    }

    private static string Clean(string message) =>
        string.IsNullOrWhiteSpace(message) ? "unknown libpcap error" : message.Replace('\n', ' ').Trim();

    public void Dispose() => _extractor.Dispose();
}
