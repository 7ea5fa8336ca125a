using Ja4.Modules.Core.Events;

namespace Ja4.Modules.Storage.Writer;

/// <summary>The tables the writer fills.</summary>
public enum StoreTable : byte
{
    HttpLogs = 1,
    TlsHandshakes = 2,
}

/// <summary>The input format of an encoded batch (also stored with each spilled batch).</summary>
public enum InsertFormat : byte
{
    /// <summary>Row-oriented <c>RowBinary</c> (batches spilled by earlier versions).</summary>
    RowBinary = 0,
    /// <summary>Column-oriented <c>Native</c> blocks.</summary>
    Native = 1,
}

/// <summary>
/// A batch of rows of one table as a <c>Native</c> block: events are appended column by column
/// as they arrive and encoded once when the batch is flushed. The columns here and in
/// <c>schema/02</c>, <c>03</c> must agree (the contract tests check every field); a column whose
/// type differs (Enum8 sent as its Int8 number) is converted by the engine on insert.
/// </summary>
public abstract class TableBlock
{
    protected NativeBlockEncoder Block { get; } = new();

    public abstract StoreTable Table { get; }

    public int Rows => Block.Rows;

    /// <summary>Appends the block to <paramref name="output"/>.</summary>
    public void Encode(ByteBuffer output) => Block.Encode(output);

    public void Clear() => Block.Clear();

    public static string TableName(StoreTable table) => table switch
    {
        StoreTable.HttpLogs => "http_logs",
        StoreTable.TlsHandshakes => "tls_handshakes",
        _ => throw new ArgumentOutOfRangeException(nameof(table)),
    };

    private static readonly IReadOnlyList<string> HttpLogColumns = new HttpLogsBlock().Block.ColumnNames;
    private static readonly IReadOnlyList<string> TlsHandshakeColumns = new TlsHandshakesBlock().Block.ColumnNames;

    /// <summary>The columns of <paramref name="table"/> the writer fills, in insert order.</summary>
    public static IReadOnlyList<string> Columns(StoreTable table) => table switch
    {
        StoreTable.HttpLogs => HttpLogColumns,
        StoreTable.TlsHandshakes => TlsHandshakeColumns,
        _ => throw new ArgumentOutOfRangeException(nameof(table)),
    };

    /// <summary><c>DateTime64(6)</c>: microseconds since the Unix epoch.</summary>
    internal static long Micros(DateTimeOffset t) => (t.UtcTicks - DateTime.UnixEpoch.Ticks) / 10;

    /// <summary>The TLS columns <c>http_logs</c> and <c>tls_handshakes</c> share.</summary>
    protected sealed class TlsColumns(NativeBlockEncoder block)
    {
        private readonly FixedColumn<sbyte> _transport = block.Add("transport", new FixedColumn<sbyte>("Enum8('tcp' = 0, 'udp' = 1)"));
        private readonly LowCardinalityStringColumn _sni = block.Add("sni", new LowCardinalityStringColumn());
        private readonly ArrayColumn<LowCardinalityStringColumn> _alpn = block.Add("alpn", new ArrayColumn<LowCardinalityStringColumn>(new()));
        private readonly LowCardinalityStringColumn _tlsVersion = block.Add("tls_version", new LowCardinalityStringColumn());
        private readonly FixedColumn<ushort> _legacyVersion = block.Add("legacy_version", new FixedColumn<ushort>("UInt16"));
        private readonly LowCardinalityStringColumn _ja4 = block.Add("ja4", new LowCardinalityStringColumn());
        private readonly StringColumn _ja4R = block.Add("ja4_r", new StringColumn());
        private readonly LowCardinalityStringColumn _ja4O = block.Add("ja4_o", new LowCardinalityStringColumn());
        private readonly StringColumn _ja4Ro = block.Add("ja4_ro", new StringColumn());
        private readonly LowCardinalityStringColumn _ja3 = block.Add("ja3", new LowCardinalityStringColumn());
        private readonly StringColumn _ja3Full = block.Add("ja3_full", new StringColumn());

        /// <summary>The hello's fields; defaults (empty strings, tcp, 0) when there is none.</summary>
        public void Add(TlsClientHello? h)
        {
            _transport.Add((sbyte)(h?.Transport ?? Transport.Tcp));
            _sni.Add(h?.Sni);
            if (h is not null)
            {
                foreach (var protocol in h.Alpn)
                {
                    _alpn.Elements.Add(protocol);
                }
            }
            _alpn.EndRow();
            _tlsVersion.Add(h?.TlsVersion);
            _legacyVersion.Add(h?.LegacyVersion ?? 0);
            _ja4.Add(h?.Ja4);
            _ja4R.Add(h?.Ja4R);
            _ja4O.Add(h?.Ja4O);
            _ja4Ro.Add(h?.Ja4Ro);
            _ja3.Add(h?.Ja3);
            _ja3Full.Add(h?.Ja3Full);
        }
    }

    /// <summary>The flow columns (time, addresses, ports) both tables start with.</summary>
    protected sealed class FlowColumns(NativeBlockEncoder block)
    {
        private readonly FixedColumn<long> _time = block.Add("time", new FixedColumn<long>("DateTime64(6, 'UTC')"));
        private readonly IPv6Column _clientIp = block.Add("client_ip", new IPv6Column());
        private readonly FixedColumn<ushort> _clientPort = block.Add("client_port", new FixedColumn<ushort>("UInt16"));
        private readonly IPv6Column _serverIp = block.Add("server_ip", new IPv6Column());
        private readonly FixedColumn<ushort> _serverPort = block.Add("server_port", new FixedColumn<ushort>("UInt16"));

        public void Add(DateTimeOffset time, FlowKey flow)
        {
            _time.Add(Micros(time));
            _clientIp.Add(flow.ClientIp);
            _clientPort.Add(flow.ClientPort);
            _serverIp.Add(flow.ServerIp);
            _serverPort.Add(flow.ServerPort);
        }
    }
}

/// <summary>Rows of <c>tls_handshakes</c>.</summary>
public sealed class TlsHandshakesBlock : TableBlock
{
    private readonly FlowColumns _flow;
    private readonly TlsColumns _tls;

    public TlsHandshakesBlock()
    {
        _flow = new FlowColumns(Block);
        _tls = new TlsColumns(Block);
    }

    public override StoreTable Table => StoreTable.TlsHandshakes;

    public void Add(TlsClientHello h)
    {
        _flow.Add(h.Timestamp, h.Flow);
        _tls.Add(h);
        Block.EndRow();
    }
}

/// <summary>Rows of <c>http_logs</c>: the request, the correlation result and the connection's hello.</summary>
public sealed class HttpLogsBlock : TableBlock
{
    private readonly FlowColumns _flow;
    private readonly LowCardinalityStringColumn _method;
    private readonly LowCardinalityStringColumn _host;
    private readonly LowCardinalityStringColumn _vhost;
    private readonly StringColumn _path;
    private readonly StringColumn _query;
    private readonly LowCardinalityStringColumn _protocol;
    private readonly FixedColumn<ushort> _status;
    private readonly FixedColumn<ulong> _bytesSent;
    private readonly FixedColumn<ulong> _durationUs;
    private readonly FixedColumn<long> _connectionId;
    private readonly FixedColumn<uint> _keepAliveIndex;
    private readonly LowCardinalityStringColumn _userAgent;
    private readonly ArrayColumn<LowCardinalityStringColumn> _headerNames;
    private readonly ArrayColumn<StringColumn> _headerValues;
    private readonly LowCardinalityStringColumn _headerSignature;
    private readonly StringColumn _headerSignatureRaw;
    private readonly FixedColumn<byte> _truncated;
    private readonly LowCardinalityStringColumn _reqTlsProtocol;
    private readonly LowCardinalityStringColumn _reqTlsCipher;
    private readonly LowCardinalityStringColumn _reqTlsSni;
    private readonly FixedColumn<sbyte> _matchStatus;
    private readonly FixedColumn<long> _correlatedAt;
    private readonly FixedColumn<long> _tlsTime;
    private readonly TlsColumns _tls;

    public HttpLogsBlock()
    {
        _flow = new FlowColumns(Block);
        _method = Block.Add("method", new LowCardinalityStringColumn());
        _host = Block.Add("host", new LowCardinalityStringColumn());
        _vhost = Block.Add("vhost", new LowCardinalityStringColumn());
        _path = Block.Add("path", new StringColumn());
        _query = Block.Add("query", new StringColumn());
        _protocol = Block.Add("protocol", new LowCardinalityStringColumn());
        _status = Block.Add("status", new FixedColumn<ushort>("UInt16"));
        _bytesSent = Block.Add("bytes_sent", new FixedColumn<ulong>("UInt64"));
        _durationUs = Block.Add("duration_us", new FixedColumn<ulong>("UInt64"));
        _connectionId = Block.Add("connection_id", new FixedColumn<long>("Int64"));
        _keepAliveIndex = Block.Add("keepalive_index", new FixedColumn<uint>("UInt32"));
        _userAgent = Block.Add("user_agent", new LowCardinalityStringColumn());
        _headerNames = Block.Add("header_names", new ArrayColumn<LowCardinalityStringColumn>(new()));
        _headerValues = Block.Add("header_values", new ArrayColumn<StringColumn>(new()));
        _headerSignature = Block.Add("header_signature", new LowCardinalityStringColumn());
        _headerSignatureRaw = Block.Add("header_signature_raw", new StringColumn());
        _truncated = Block.Add("truncated", new FixedColumn<byte>("Bool"));
        _reqTlsProtocol = Block.Add("req_tls_protocol", new LowCardinalityStringColumn());
        _reqTlsCipher = Block.Add("req_tls_cipher", new LowCardinalityStringColumn());
        _reqTlsSni = Block.Add("req_tls_sni", new LowCardinalityStringColumn());
        // Stored as its number: the Enum8 of schema/03 names the same values (SchemaEnumTests).
        _matchStatus = Block.Add("match_status", new FixedColumn<sbyte>("Int8"));
        _correlatedAt = Block.Add("correlated_at", new FixedColumn<long>("DateTime64(6, 'UTC')"));
        _tlsTime = Block.Add("tls_time", new FixedColumn<long>("DateTime64(6, 'UTC')"));
        _tls = new TlsColumns(Block);
    }

    public override StoreTable Table => StoreTable.HttpLogs;

    public void Add(CorrelatedRequest c)
    {
        var r = c.Request;
        _flow.Add(r.Timestamp, r.Flow);
        _method.Add(r.Method);
        _host.Add(r.Host);
        _vhost.Add(r.VirtualHost);
        _path.Add(r.Path);
        _query.Add(r.Query);
        _protocol.Add(r.Protocol);
        _status.Add((ushort)Math.Clamp(r.Status, 0, ushort.MaxValue));
        _bytesSent.Add((ulong)Math.Max(0, r.BytesSent));
        _durationUs.Add((ulong)Math.Max(0, r.DurationMicros));
        _connectionId.Add(r.ConnectionId);
        _keepAliveIndex.Add((uint)Math.Max(0, r.KeepAliveIndex));
        _userAgent.Add(r.UserAgent);
        foreach (var h in r.Headers)
        {
            _headerNames.Elements.Add(h.Key);
            _headerValues.Elements.Add(h.Value);
        }
        _headerNames.EndRow();
        _headerValues.EndRow();
        _headerSignature.Add(r.HeaderSignature);
        _headerSignatureRaw.Add(r.HeaderSignatureRaw);
        _truncated.Add(r.Truncated ? (byte)1 : (byte)0);
        _reqTlsProtocol.Add(r.TlsProtocol);
        _reqTlsCipher.Add(r.TlsCipher);
        _reqTlsSni.Add(r.TlsSni);
        _matchStatus.Add((sbyte)c.Status);
        _correlatedAt.Add(Micros(c.CorrelatedAt));
        _tlsTime.Add(Micros(c.Handshake?.Timestamp ?? DateTimeOffset.UnixEpoch));
        _tls.Add(c.Handshake);
        Block.EndRow();
    }
}
