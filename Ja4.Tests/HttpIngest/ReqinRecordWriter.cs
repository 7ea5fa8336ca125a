using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Ja4.Modules.Core.Events;

namespace Ja4.Tests.HttpIngest;

/// <summary>Writes an <see cref="HttpRequest"/> back as a mod_reqin_log record (for round trips and JSONL files).</summary>
internal static class ReqinRecordWriter
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string ToJson(HttpRequest r) => Encoding.UTF8.GetString(ToUtf8(r));

    public static byte[] ToUtf8(HttpRequest r)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, Options))
        {
            w.WriteStartObject();
            w.WriteNumber("v", 1);
            w.WriteNumber("time_us", (r.Timestamp - DateTimeOffset.UnixEpoch).Ticks / 10);
            w.WriteString("client_ip", r.Flow.ClientIp.ToString());
            w.WriteNumber("client_port", r.Flow.ClientPort);
            w.WriteString("server_ip", r.Flow.ServerIp.ToString());
            w.WriteNumber("server_port", r.Flow.ServerPort);
            if (r.VirtualHost is not null)
            {
                w.WriteString("vhost", r.VirtualHost);
            }
            w.WriteString("method", r.Method);
            w.WriteString("path", r.Path);
            if (r.Query is not null)
            {
                w.WriteString("query", r.Query);
            }
            w.WriteString("protocol", r.Protocol);
            if (r.Host is not null)
            {
                w.WriteString("host", r.Host);
            }
            w.WriteNumber("status", r.Status);
            w.WriteNumber("bytes_sent", r.BytesSent);
            w.WriteNumber("duration_us", r.DurationMicros);
            w.WriteNumber("conn_id", r.ConnectionId);
            w.WriteNumber("keepalive_index", r.KeepAliveIndex);
            if (r.TlsProtocol is not null)
            {
                w.WriteString("tls_protocol", r.TlsProtocol);
            }
            if (r.TlsCipher is not null)
            {
                w.WriteString("tls_cipher", r.TlsCipher);
            }
            if (r.TlsSni is not null)
            {
                w.WriteString("tls_sni", r.TlsSni);
            }
            w.WriteStartArray("headers");
            foreach (var (k, v) in r.Headers)
            {
                w.WriteStartArray();
                w.WriteStringValue(k);
                w.WriteStringValue(v);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            if (r.Truncated)
            {
                w.WriteBoolean("truncated", true);
            }
            w.WriteEndObject();
        }
        return ms.ToArray();
    }
}
