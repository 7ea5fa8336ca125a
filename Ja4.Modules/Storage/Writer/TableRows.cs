using Ja4.Modules.Core.Events;

namespace Ja4.Modules.Storage.Writer;

/// <summary>The tables the writer fills, with their column lists in insert order.</summary>
public enum StoreTable : byte
{
    HttpLogs = 1,
    TlsHandshakes = 2,
}

/// <summary>
/// Encodes events as <c>RowBinary</c> rows of <c>http_logs</c> and <c>tls_handshakes</c>. The
/// column lists here and in <c>schema/02</c>, <c>03</c> must agree (the contract tests check every field).
/// </summary>
public static class TableRows
{
    public static readonly IReadOnlyList<string> TlsHandshakeColumns =
    [
        "time", "client_ip", "client_port", "server_ip", "server_port", "transport", "sni", "alpn", "tls_version",
        "legacy_version", "ja4", "ja4_r", "ja4_o", "ja4_ro", "ja3", "ja3_full",
    ];

    public static readonly IReadOnlyList<string> HttpLogColumns =
    [
        "time", "client_ip", "client_port", "server_ip", "server_port", "method", "host", "vhost", "path", "query",
        "protocol", "status", "bytes_sent", "duration_us", "connection_id", "keepalive_index", "user_agent",
        "header_names", "header_values", "header_signature", "header_signature_raw", "truncated", "req_tls_protocol",
        "req_tls_cipher", "req_tls_sni", "match_status", "correlated_at", "tls_time", "transport", "sni", "alpn",
        "tls_version", "legacy_version", "ja4", "ja4_r", "ja4_o", "ja4_ro", "ja3", "ja3_full",
    ];

    public static string TableName(StoreTable table) => table switch
    {
        StoreTable.HttpLogs => "http_logs",
        StoreTable.TlsHandshakes => "tls_handshakes",
        _ => throw new ArgumentOutOfRangeException(nameof(table)),
    };

    public static IReadOnlyList<string> Columns(StoreTable table) => table switch
    {
        StoreTable.HttpLogs => HttpLogColumns,
        StoreTable.TlsHandshakes => TlsHandshakeColumns,
        _ => throw new ArgumentOutOfRangeException(nameof(table)),
    };

    public static void Write(RowBinaryBuffer b, TlsClientHello h)
    {
        b.DateTime64Micro(h.Timestamp);
        b.IPv6(h.Flow.ClientIp);
        b.UInt16(h.Flow.ClientPort);
        b.IPv6(h.Flow.ServerIp);
        b.UInt16(h.Flow.ServerPort);
        b.UInt8((byte)h.Transport);
        b.String(h.Sni);
        b.StringArray(h.Alpn);
        b.String(h.TlsVersion);
        b.UInt16(h.LegacyVersion);
        b.String(h.Ja4);
        b.String(h.Ja4R);
        b.String(h.Ja4O);
        b.String(h.Ja4Ro);
        b.String(h.Ja3);
        b.String(h.Ja3Full);
        b.EndRow();
    }

    public static void Write(RowBinaryBuffer b, CorrelatedRequest c)
    {
        var r = c.Request;
        b.DateTime64Micro(r.Timestamp);
        b.IPv6(r.Flow.ClientIp);
        b.UInt16(r.Flow.ClientPort);
        b.IPv6(r.Flow.ServerIp);
        b.UInt16(r.Flow.ServerPort);
        b.String(r.Method);
        b.String(r.Host);
        b.String(r.VirtualHost);
        b.String(r.Path);
        b.String(r.Query);
        b.String(r.Protocol);
        b.UInt16((ushort)Math.Clamp(r.Status, 0, ushort.MaxValue));
        b.UInt64((ulong)Math.Max(0, r.BytesSent));
        b.UInt64((ulong)Math.Max(0, r.DurationMicros));
        b.Int64(r.ConnectionId);
        b.UInt32((uint)Math.Max(0, r.KeepAliveIndex));
        b.String(r.UserAgent);
        b.VarUInt((ulong)r.Headers.Count);
        foreach (var h in r.Headers)
        {
            b.String(h.Key);
        }
        b.VarUInt((ulong)r.Headers.Count);
        foreach (var h in r.Headers)
        {
            b.String(h.Value);
        }
        b.String(r.HeaderSignature);
        b.String(r.HeaderSignatureRaw);
        b.Bool(r.Truncated);
        b.String(r.TlsProtocol);
        b.String(r.TlsCipher);
        b.String(r.TlsSni);
        b.UInt8((byte)c.Status);
        b.DateTime64Micro(c.CorrelatedAt);
        var h2 = c.Handshake;
        b.DateTime64Micro(h2?.Timestamp ?? DateTimeOffset.UnixEpoch);
        b.UInt8((byte)(h2?.Transport ?? Transport.Tcp));
        b.String(h2?.Sni);
        b.StringArray(h2?.Alpn ?? []);
        b.String(h2?.TlsVersion);
        b.UInt16(h2?.LegacyVersion ?? 0);
        b.String(h2?.Ja4);
        b.String(h2?.Ja4R);
        b.String(h2?.Ja4O);
        b.String(h2?.Ja4Ro);
        b.String(h2?.Ja3);
        b.String(h2?.Ja3Full);
        b.EndRow();
    }
}
