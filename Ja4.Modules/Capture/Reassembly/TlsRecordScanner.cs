using System.Buffers.Binary;

namespace Ja4.Modules.Capture.Reassembly;

/// <summary>Outcome of scanning the start of a client byte stream for a ClientHello.</summary>
public enum HelloScan : byte
{
    /// <summary>Not enough bytes yet.</summary>
    NeedMore,
    /// <summary>The whole handshake message is present.</summary>
    Complete,
    /// <summary>The stream does not start with TLS handshake records.</summary>
    NotTls,
    /// <summary>TLS handshake, but the first message is not a ClientHello.</summary>
    NotClientHello,
    /// <summary>The announced hello is larger than the byte cap.</summary>
    TooLarge,
}

/// <summary>
/// Finds the first handshake message in a stream of TLS records (RFC 8446 §5.1): handshake
/// messages may be fragmented over several records, and records over several segments.
/// </summary>
public static class TlsRecordScanner
{
    /// <summary>TLS ContentType handshake.</summary>
    public const byte ContentTypeHandshake = 22;
    /// <summary>HandshakeType client_hello.</summary>
    public const byte HandshakeTypeClientHello = 1;
    public const int RecordHeaderLength = 5;
    public const int HandshakeHeaderLength = 4;
    /// <summary>RFC 8446 §5.1: a record's length must not exceed 2^14; TLS 1.2 allows 2^14 + 2048 with compression.</summary>
    public const int MaxRecordLength = (1 << 14) + 2048;

    /// <summary>
    /// True when a segment's payload starts like a TLS record carrying a ClientHello:
    /// content type 22, version 3.x (x ≤ 4), handshake type 1. Used to start tracking a flow
    /// whose SYN was not seen.
    /// </summary>
    public static bool LooksLikeClientHelloStart(ReadOnlySpan<byte> payload) =>
        payload.Length >= 6 && payload[0] == ContentTypeHandshake && payload[1] == 3 && payload[2] <= 4
        && payload[5] == HandshakeTypeClientHello;

    /// <summary>
    /// Scans <paramref name="stream"/> (contiguous client bytes from the start of the first record).
    /// On <see cref="HelloScan.Complete"/>, <paramref name="messageLength"/> is the handshake
    /// message length including its 4-byte header; copy it out with <see cref="CopyMessage"/>.
    /// </summary>
    public static HelloScan Scan(ReadOnlySpan<byte> stream, int maxHelloBytes, out int messageLength)
    {
        messageLength = 0;
        var gathered = 0;
        var needed = -1;
        Span<byte> header = stackalloc byte[HandshakeHeaderLength];
        var pos = 0;
        while (true)
        {
            if (stream.Length - pos < 1)
            {
                return HelloScan.NeedMore;
            }
            if (stream[pos] != ContentTypeHandshake)
            {
                return HelloScan.NotTls;
            }
            if (stream.Length - pos >= 2 && stream[pos + 1] != 3)
            {
                return HelloScan.NotTls;
            }
            if (stream.Length - pos < RecordHeaderLength)
            {
                return HelloScan.NeedMore;
            }
            int recordLength = BinaryPrimitives.ReadUInt16BigEndian(stream[(pos + 3)..]);
            if (recordLength == 0 || recordLength > MaxRecordLength || stream[pos + 2] > 4)
            {
                return HelloScan.NotTls;
            }
            var body = stream.Slice(pos + RecordHeaderLength, Math.Min(recordLength, stream.Length - pos - RecordHeaderLength));
            // Handshake header bytes may themselves straddle records.
            var i = 0;
            while (gathered < HandshakeHeaderLength && i < body.Length)
            {
                header[gathered++] = body[i++];
            }
            if (gathered >= HandshakeHeaderLength && needed < 0)
            {
                if (header[0] != HandshakeTypeClientHello)
                {
                    return HelloScan.NotClientHello;
                }
                var length = (header[1] << 16) | (header[2] << 8) | header[3];
                needed = HandshakeHeaderLength + length;
                if (needed > maxHelloBytes)
                {
                    return HelloScan.TooLarge;
                }
            }
            if (needed >= 0)
            {
                gathered += body.Length - i;
                if (gathered >= needed)
                {
                    messageLength = needed;
                    return HelloScan.Complete;
                }
            }
            if (body.Length < recordLength)
            {
                return HelloScan.NeedMore;
            }
            pos += RecordHeaderLength + recordLength;
        }
    }

    /// <summary>Copies the first handshake message of <paramref name="stream"/> (record headers removed).</summary>
    public static byte[] CopyMessage(ReadOnlySpan<byte> stream, int messageLength)
    {
        var message = new byte[messageLength];
        var written = 0;
        var pos = 0;
        while (written < messageLength)
        {
            int recordLength = BinaryPrimitives.ReadUInt16BigEndian(stream[(pos + 3)..]);
            var body = stream.Slice(pos + RecordHeaderLength, Math.Min(recordLength, stream.Length - pos - RecordHeaderLength));
            var take = Math.Min(body.Length, messageLength - written);
            body[..take].CopyTo(message.AsSpan(written));
            written += take;
            pos += RecordHeaderLength + recordLength;
        }
        return message;
    }
}
