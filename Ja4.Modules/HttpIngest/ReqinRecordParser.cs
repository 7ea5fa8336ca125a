using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Text;
using System.Text.Json;
using Ja4.Modules.Core.Events;

namespace Ja4.Modules.HttpIngest;

/// <summary>Why a record was rejected; the <c>reason</c> label of <c>ja4_httpingest_invalid_total</c>.</summary>
public enum ReqinInvalidReason
{
    None = 0,
    /// <summary>Not one well-formed JSON object (syntax, invalid UTF-8, trailing data, empty).</summary>
    Json,
    /// <summary>A required field is absent.</summary>
    MissingField,
    /// <summary>A field has the wrong type or an impossible value (port 70000, bad IP, ...).</summary>
    BadField,
    /// <summary>A <c>v</c> other than the one this daemon reads.</summary>
    UnsupportedVersion,
    /// <summary>Larger than <c>Modules:HttpIngest:MaxRecordBytes</c> (set by the reader, not the parser).</summary>
    Oversized,
}

/// <summary>A rejected record: the reason and a short human detail (the field, the JSON error).</summary>
public readonly record struct ReqinParseError(ReqinInvalidReason Reason, string Detail)
{
    /// <summary>Metric label of a reason: <c>json</c>, <c>missing_field</c>, <c>bad_field</c>, ...</summary>
    public static string Label(ReqinInvalidReason reason) => reason switch
    {
        ReqinInvalidReason.Json => "json",
        ReqinInvalidReason.MissingField => "missing_field",
        ReqinInvalidReason.BadField => "bad_field",
        ReqinInvalidReason.UnsupportedVersion => "unsupported_version",
        ReqinInvalidReason.Oversized => "oversized",
        _ => "none",
    };

    public override string ToString() => $"{Label(Reason)}: {Detail}";
}

/// <summary>
/// Parses one mod_reqin_log record (a JSON object, UTF-8) into an <see cref="HttpRequest"/>.
/// Span-based (<see cref="Utf8JsonReader"/>, no reflection), strict about types and required
/// fields, lenient about unknown fields (skipped, so that the module may add some). The same
/// parser reads records from the socket and lines of a JSONL file (<see cref="ReqinJsonLines"/>).
/// The record format is specified in docs/apache-module.md.
/// </summary>
/// <remarks>
/// Not thread-safe: it keeps a small cache of recurring strings (header names, methods,
/// protocols, TLS facts). Use one parser per reader.
/// </remarks>
public sealed class ReqinRecordParser
{
    /// <summary>The record version (<c>"v"</c>) this parser reads.</summary>
    public const int RecordVersion = 1;

    private static readonly DateTimeOffset MaxTimestamp = new(9999, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly long MaxTimeMicros = (MaxTimestamp - DateTimeOffset.UnixEpoch).Ticks / 10;

    /// <summary>UTF-8 decoding that throws on invalid bytes: validation and transcoding in one pass.</summary>
    internal static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly bool _computeSignature;
    private readonly Utf8StringCache _cache = new();
    /// <summary>
    /// Short header values (Accept, Accept-Encoding, Accept-Language, Sec-Fetch-*, Host, ...)
    /// repeat across clients: shared instances save a string per header per record. Apart from
    /// the names, so that a flood of distinct values cannot push the names out.
    /// </summary>
    private readonly Utf8StringCache _values = new();
    private readonly IpCache _clientIps = new();
    private readonly IpCache _serverIps = new();
    private readonly SignatureCache _signatures = new();
    private readonly List<KeyValuePair<string, string>> _headers = new(32);

    /// <param name="computeHeaderSignature">Fill <see cref="HttpRequest.HeaderSignature"/> and its raw parts.</param>
    public ReqinRecordParser(bool computeHeaderSignature = true) => _computeSignature = computeHeaderSignature;

    /// <summary>Parses one record. Never throws on bad input.</summary>
    public bool TryParse(ReadOnlySpan<byte> utf8Record, [NotNullWhen(true)] out HttpRequest? request, out ReqinParseError error)
    {
        request = null;
        try
        {
            return TryParseCore(utf8Record, out request, out error);
        }
        catch (JsonException e)
        {
            error = new(ReqinInvalidReason.Json, FirstLine(e.Message));
        }
        catch (InvalidOperationException e)
        {
            // Utf8JsonReader's GetString on invalid UTF-8, and token misuse on malformed input.
            error = new(ReqinInvalidReason.Json, FirstLine(e.Message));
        }
        catch (DecoderFallbackException)
        {
            error = new(ReqinInvalidReason.Json, "invalid UTF-8 in a string");
        }
        return false;
    }

    private bool TryParseCore(ReadOnlySpan<byte> utf8, out HttpRequest? request, out ReqinParseError error)
    {
        request = null;
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 8 });
        if (!reader.Read())
        {
            error = new(ReqinInvalidReason.Json, "empty record");
            return false;
        }
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            error = new(ReqinInvalidReason.Json, "not a JSON object");
            return false;
        }

        long? timeUs = null, status = null, clientPort = null, serverPort = null;
        IPAddress? clientIp = null, serverIp = null;
        string? method = null, path = null, protocol = null, query = null, host = null, vhost = null;
        string? tlsProtocol = null, tlsCipher = null, tlsSni = null;
        long bytesSent = 0, durationUs = 0, connId = 0, keepAliveIndex = 0;
        var truncated = false;
        var sawHeaders = false;
        _headers.Clear();

        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var field = Identify(ref reader);
            reader.Read();
            switch (field)
            {
                case Field.Version:
                    if (!TryInt(ref reader, out var v) || v != RecordVersion)
                    {
                        error = new(ReqinInvalidReason.UnsupportedVersion, $"v is not {RecordVersion}");
                        return false;
                    }
                    break;
                case Field.TimeUs:
                    if (!TryInt(ref reader, out var t) || t <= 0 || t >= MaxTimeMicros)
                    {
                        return Bad("time_us", out error);
                    }
                    timeUs = t;
                    break;
                case Field.ClientIp:
                    if (!_clientIps.TryParse(ref reader, out clientIp))
                    {
                        return Bad("client_ip", out error);
                    }
                    break;
                case Field.ClientPort:
                    if (!TryInt(ref reader, out var cp) || cp is < 0 or > ushort.MaxValue)
                    {
                        return Bad("client_port", out error);
                    }
                    clientPort = cp;
                    break;
                case Field.ServerIp:
                    if (!_serverIps.TryParse(ref reader, out serverIp))
                    {
                        return Bad("server_ip", out error);
                    }
                    break;
                case Field.ServerPort:
                    if (!TryInt(ref reader, out var sp) || sp is < 0 or > ushort.MaxValue)
                    {
                        return Bad("server_port", out error);
                    }
                    serverPort = sp;
                    break;
                case Field.Method:
                    if (!TryString(ref reader, cached: true, out method))
                    {
                        return Bad("method", out error);
                    }
                    break;
                case Field.Path:
                    if (!TryString(ref reader, cached: false, out path))
                    {
                        return Bad("path", out error);
                    }
                    break;
                case Field.Query:
                    if (!TryOptionalString(ref reader, cached: false, out query))
                    {
                        return Bad("query", out error);
                    }
                    break;
                case Field.Protocol:
                    if (!TryString(ref reader, cached: true, out protocol))
                    {
                        return Bad("protocol", out error);
                    }
                    break;
                case Field.Host:
                    if (!TryOptionalString(ref reader, cached: true, out host))
                    {
                        return Bad("host", out error);
                    }
                    break;
                case Field.VirtualHost:
                    if (!TryOptionalString(ref reader, cached: true, out vhost))
                    {
                        return Bad("vhost", out error);
                    }
                    break;
                case Field.Status:
                    if (!TryInt(ref reader, out var st) || st is < 0 or > 999)
                    {
                        return Bad("status", out error);
                    }
                    status = st;
                    break;
                case Field.BytesSent:
                    if (!TryInt(ref reader, out bytesSent) || bytesSent < 0)
                    {
                        return Bad("bytes_sent", out error);
                    }
                    break;
                case Field.DurationUs:
                    if (!TryInt(ref reader, out durationUs) || durationUs < 0)
                    {
                        return Bad("duration_us", out error);
                    }
                    break;
                case Field.ConnId:
                    if (!TryInt(ref reader, out connId))
                    {
                        return Bad("conn_id", out error);
                    }
                    break;
                case Field.KeepAliveIndex:
                    if (!TryInt(ref reader, out keepAliveIndex) || keepAliveIndex is < 0 or > int.MaxValue)
                    {
                        return Bad("keepalive_index", out error);
                    }
                    break;
                case Field.TlsProtocol:
                    if (!TryOptionalString(ref reader, cached: true, out tlsProtocol))
                    {
                        return Bad("tls_protocol", out error);
                    }
                    break;
                case Field.TlsCipher:
                    if (!TryOptionalString(ref reader, cached: true, out tlsCipher))
                    {
                        return Bad("tls_cipher", out error);
                    }
                    break;
                case Field.TlsSni:
                    if (!TryOptionalString(ref reader, cached: true, out tlsSni))
                    {
                        return Bad("tls_sni", out error);
                    }
                    break;
                case Field.Truncated:
                    if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False))
                    {
                        return Bad("truncated", out error);
                    }
                    truncated = reader.TokenType == JsonTokenType.True;
                    break;
                case Field.Headers:
                    if (!TryHeaders(ref reader))
                    {
                        return Bad("headers", out error);
                    }
                    sawHeaders = true;
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        // Anything after the object is an error (Utf8JsonReader throws on a second value).
        while (reader.Read())
        {
        }

        var missing = timeUs is null ? "time_us"
            : clientIp is null ? "client_ip"
            : clientPort is null ? "client_port"
            : serverIp is null ? "server_ip"
            : serverPort is null ? "server_port"
            : method is null ? "method"
            : path is null ? "path"
            : protocol is null ? "protocol"
            : status is null ? "status"
            : !sawHeaders ? "headers"
            : null;
        if (missing is not null)
        {
            error = new(ReqinInvalidReason.MissingField, missing);
            return false;
        }

        var headers = _headers.ToArray();
        string? signature = null, signatureRaw = null;
        if (_computeSignature)
        {
            (signature, signatureRaw) = _signatures.Get(method!, protocol!, headers);
        }
        request = new HttpRequest
        {
            Timestamp = DateTimeOffset.UnixEpoch.AddTicks(timeUs!.Value * 10),
            Flow = FlowKey.Create(clientIp!, (ushort)clientPort!.Value, serverIp!, (ushort)serverPort!.Value),
            Method = method!,
            Path = path!,
            Query = query,
            Protocol = protocol!,
            Host = host,
            VirtualHost = vhost,
            Headers = headers,
            Status = (int)status!.Value,
            BytesSent = bytesSent,
            DurationMicros = durationUs,
            ConnectionId = connId,
            KeepAliveIndex = (int)keepAliveIndex,
            TlsProtocol = tlsProtocol,
            TlsCipher = tlsCipher,
            TlsSni = tlsSni,
            Truncated = truncated,
            HeaderSignature = signature,
            HeaderSignatureRaw = signatureRaw,
        };
        error = default;
        return true;
    }

    private enum Field
    {
        Unknown,
        Version,
        TimeUs,
        ClientIp,
        ClientPort,
        ServerIp,
        ServerPort,
        VirtualHost,
        Method,
        Path,
        Query,
        Protocol,
        Host,
        Status,
        BytesSent,
        DurationUs,
        ConnId,
        KeepAliveIndex,
        TlsProtocol,
        TlsCipher,
        TlsSni,
        Headers,
        Truncated,
    }

    private static Field Identify(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped)
        {
            // The module never escapes names; accept it anyway, the slow way.
            var name = reader.GetString()!;
            Span<byte> buf = stackalloc byte[Encoding.UTF8.GetMaxByteCount(Math.Min(name.Length, 32))];
            return name.Length <= 32 ? IdentifyBytes(buf[..Encoding.UTF8.GetBytes(name, buf)]) : Field.Unknown;
        }
        return IdentifyBytes(reader.ValueSpan);
    }

    private static Field IdentifyBytes(ReadOnlySpan<byte> n) => n.Length switch
    {
        1 when n[0] == (byte)'v' => Field.Version,
        4 when n.SequenceEqual("path"u8) => Field.Path,
        4 when n.SequenceEqual("host"u8) => Field.Host,
        5 when n.SequenceEqual("vhost"u8) => Field.VirtualHost,
        5 when n.SequenceEqual("query"u8) => Field.Query,
        6 when n.SequenceEqual("method"u8) => Field.Method,
        6 when n.SequenceEqual("status"u8) => Field.Status,
        7 when n.SequenceEqual("time_us"u8) => Field.TimeUs,
        7 when n.SequenceEqual("headers"u8) => Field.Headers,
        7 when n.SequenceEqual("conn_id"u8) => Field.ConnId,
        7 when n.SequenceEqual("tls_sni"u8) => Field.TlsSni,
        8 when n.SequenceEqual("protocol"u8) => Field.Protocol,
        9 when n.SequenceEqual("client_ip"u8) => Field.ClientIp,
        9 when n.SequenceEqual("server_ip"u8) => Field.ServerIp,
        9 when n.SequenceEqual("truncated"u8) => Field.Truncated,
        10 when n.SequenceEqual("bytes_sent"u8) => Field.BytesSent,
        10 when n.SequenceEqual("tls_cipher"u8) => Field.TlsCipher,
        11 when n.SequenceEqual("client_port"u8) => Field.ClientPort,
        11 when n.SequenceEqual("server_port"u8) => Field.ServerPort,
        11 when n.SequenceEqual("duration_us"u8) => Field.DurationUs,
        12 when n.SequenceEqual("tls_protocol"u8) => Field.TlsProtocol,
        15 when n.SequenceEqual("keepalive_index"u8) => Field.KeepAliveIndex,
        _ => Field.Unknown,
    };

    private static bool Bad(string field, out ReqinParseError error)
    {
        error = new(ReqinInvalidReason.BadField, field);
        return false;
    }

    private static bool TryInt(ref Utf8JsonReader reader, out long value)
    {
        value = 0;
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out value);
    }

    private bool TryString(ref Utf8JsonReader reader, bool cached, [NotNullWhen(true)] out string? value) =>
        TryString(ref reader, cached ? _cache : null, out value);

    private static bool TryString(ref Utf8JsonReader reader, Utf8StringCache? cache, [NotNullWhen(true)] out string? value)
    {
        value = null;
        if (reader.TokenType != JsonTokenType.String)
        {
            return false;
        }
        if (reader.ValueIsEscaped)
        {
            value = reader.GetString()!;  // validates UTF-8 (throws InvalidOperationException)
            return true;
        }
        var span = reader.ValueSpan;
        value = cache is not null ? cache.Get(span) : StrictUtf8.GetString(span);
        return true;
    }

    private bool TryOptionalString(ref Utf8JsonReader reader, bool cached, out string? value)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            value = null;
            return true;
        }
        return TryString(ref reader, cached, out value);
    }

    /// <summary>[["name","value"], ...] into <see cref="_headers"/>.</summary>
    private bool TryHeaders(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return false;
        }
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartArray || !reader.Read()
                || !TryString(ref reader, cached: true, out var name) || !reader.Read()
                || !TryString(ref reader, _values, out var value) || !reader.Read()
                || reader.TokenType != JsonTokenType.EndArray)
            {
                return false;
            }
            _headers.Add(new(name, value));
        }
        return true;
    }

    private static string FirstLine(string message)
    {
        var nl = message.IndexOfAny(['\r', '\n']);
        return nl < 0 ? message : message[..nl];
    }
}

/// <summary>
/// Returns the same string instance for recurring short UTF-8 values (header names, methods,
/// protocols, TLS facts), so that millions of records do not allocate millions of copies of
/// "User-Agent", and so that <see cref="SignatureCache"/> can compare names by reference.
/// Bounded: when full it starts again empty, so a flood of distinct values cannot grow it.
/// </summary>
internal sealed class Utf8StringCache
{
    private const int MaxLength = 64;
    private const int MaxEntries = 4096;
    private readonly Dictionary<byte[], string> _map = new(ByteArrayComparer.Instance);
    private readonly Dictionary<byte[], string>.AlternateLookup<ReadOnlySpan<byte>> _lookup;

    public Utf8StringCache() => _lookup = _map.GetAlternateLookup<ReadOnlySpan<byte>>();

    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxLength)
        {
            return ReqinRecordParser.StrictUtf8.GetString(utf8);
        }
        if (_lookup.TryGetValue(utf8, out var value))
        {
            return value;
        }
        value = ReqinRecordParser.StrictUtf8.GetString(utf8);   // throws on invalid UTF-8: never cached
        if (_map.Count >= MaxEntries)
        {
            _map.Clear();
        }
        _map[utf8.ToArray()] = value;
        return value;
    }

    private sealed class ByteArrayComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => GetHashCode((ReadOnlySpan<byte>)obj);

        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<byte> alternate)
        {
            var h = new HashCode();
            h.AddBytes(alternate);
            return h.ToHashCode();
        }

        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
    }
}

/// <summary>
/// The signature depends only on the method, the protocol and the header names, and a site sees
/// few distinct combinations (one per client stack). Names, methods and protocols come from
/// <see cref="Utf8StringCache"/>, so the same combination arrives as the same string instances:
/// a hit is recognised by reference equality, without hashing text. A miss (or a name too long
/// for the string cache) simply computes the signature.
/// </summary>
internal sealed class SignatureCache
{
    private const int Size = 256;
    private readonly Entry?[] _entries = new Entry?[Size];

    public (string Signature, string Raw) Get(string method, string protocol, KeyValuePair<string, string>[] headers)
    {
        var h = new HashCode();
        h.Add(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(method));
        h.Add(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(protocol));
        foreach (var header in headers)
        {
            h.Add(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(header.Key));
        }
        var slot = h.ToHashCode() & (Size - 1);
        var e = _entries[slot];
        if (e is not null && e.Matches(method, protocol, headers))
        {
            return (e.Signature, e.Raw);
        }
        var raw = HttpHeaderSignature.ComputeRaw(method, protocol, headers);
        var signature = HttpHeaderSignature.Hash(raw);
        _entries[slot] = new Entry(method, protocol, headers.Select(x => x.Key).ToArray(), signature, raw);
        return (signature, raw);
    }

    private sealed record Entry(string Method, string Protocol, string[] Names, string Signature, string Raw)
    {
        public bool Matches(string method, string protocol, KeyValuePair<string, string>[] headers)
        {
            if (!ReferenceEquals(Method, method) || !ReferenceEquals(Protocol, protocol) || Names.Length != headers.Length)
            {
                return false;
            }
            for (var i = 0; i < Names.Length; i++)
            {
                if (!ReferenceEquals(Names[i], headers[i].Key))
                {
                    return false;
                }
            }
            return true;
        }
    }
}

/// <summary>
/// Remembers the last address parsed: a server's address never changes and a client's repeats
/// over its keep-alive requests, so most records parse no address at all.
/// </summary>
internal sealed class IpCache
{
    private byte[] _lastText = [];
    private IPAddress? _last;

    public bool TryParse(ref Utf8JsonReader reader, [NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        if (reader.TokenType != JsonTokenType.String)
        {
            return false;
        }
        if (reader.ValueIsEscaped)
        {
            return IPAddress.TryParse(reader.GetString(), out address);
        }
        var text = reader.ValueSpan;
        if (_last is not null && text.SequenceEqual(_lastText))
        {
            address = _last;
            return true;
        }
        if (!IPAddress.TryParse(text, out address))
        {
            return false;
        }
        _lastText = text.ToArray();
        _last = address;
        return true;
    }
}
