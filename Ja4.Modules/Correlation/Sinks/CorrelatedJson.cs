using System.Text.Encodings.Web;
using System.Text.Json;
using Ja4.Modules.Core.Events;

namespace Ja4.Modules.Correlation.Sinks;

/// <summary>
/// One <see cref="CorrelatedRequest"/> as a JSON object (snake_case keys), the line format of the
/// file and stdout sinks. Every string goes through <see cref="Utf8JsonWriter"/> with the default
/// encoder, so that client-controlled text (paths, headers, SNI) cannot break a line or the
/// surrounding JSON: control characters, quotes, <c>&lt;&gt;&amp;'</c>, non-ASCII and line
/// separators come out as <c>\uXXXX</c> escapes.
/// </summary>
public static class CorrelatedJson
{
    /// <summary>Writer options shared by the sinks.</summary>
    public static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.Default,
        Indented = false,
        SkipValidation = false,
    };

    public static void Write(Utf8JsonWriter w, CorrelatedRequest c)
    {
        var r = c.Request;
        w.WriteStartObject();
        w.WriteString("timestamp", r.Timestamp.UtcDateTime);
        w.WriteString("correlated_at", c.CorrelatedAt.UtcDateTime);
        w.WriteString("match_status", CorrelationMetrics.StatusName(c.Status));
        w.WriteString("client_ip", r.Flow.ClientIp.ToString());
        w.WriteNumber("client_port", r.Flow.ClientPort);
        w.WriteString("server_ip", r.Flow.ServerIp.ToString());
        w.WriteNumber("server_port", r.Flow.ServerPort);
        w.WriteString("method", Safe(r.Method));
        w.WriteString("path", Safe(r.Path));
        w.WriteString("query", Safe(r.Query));
        w.WriteString("protocol", Safe(r.Protocol));
        w.WriteString("host", Safe(r.Host));
        w.WriteString("vhost", Safe(r.VirtualHost));
        w.WriteNumber("status", r.Status);
        w.WriteNumber("bytes_sent", r.BytesSent);
        w.WriteNumber("duration_us", r.DurationMicros);
        w.WriteNumber("connection_id", r.ConnectionId);
        w.WriteNumber("keepalive_index", r.KeepAliveIndex);
        w.WriteString("tls_protocol", Safe(r.TlsProtocol));
        w.WriteString("tls_cipher", Safe(r.TlsCipher));
        w.WriteString("tls_sni", Safe(r.TlsSni));
        w.WriteString("user_agent", Safe(r.UserAgent));
        w.WriteString("header_signature", Safe(r.HeaderSignature));
        w.WriteBoolean("truncated", r.Truncated);
        w.WriteStartArray("headers");
        foreach (var h in r.Headers)
        {
            w.WriteStartArray();
            w.WriteStringValue(Safe(h.Key));
            w.WriteStringValue(Safe(h.Value));
            w.WriteEndArray();
        }
        w.WriteEndArray();
        if (c.Handshake is { } hs)
        {
            w.WriteStartObject("handshake");
            w.WriteString("timestamp", hs.Timestamp.UtcDateTime);
            w.WriteString("sni", Safe(hs.Sni));
            w.WriteStartArray("alpn");
            foreach (var a in hs.Alpn)
            {
                w.WriteStringValue(Safe(a));
            }
            w.WriteEndArray();
            w.WriteString("tls_version", Safe(hs.TlsVersion));
            w.WriteString("ja4", hs.Ja4);
            w.WriteString("ja4_r", hs.Ja4R);
            w.WriteString("ja4_o", hs.Ja4O);
            w.WriteString("ja4_ro", hs.Ja4Ro);
            w.WriteString("ja3", hs.Ja3);
            w.WriteString("ja3_full", hs.Ja3Full);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("handshake");
        }
        w.WriteEndObject();
    }

    /// <summary>
    /// Replaces lone UTF-16 surrogates (which <see cref="Utf8JsonWriter"/> refuses) with U+FFFD,
    /// allocating only when there is one.
    /// </summary>
    internal static string? Safe(string? s)
    {
        if (s is null)
        {
            return null;
        }
        for (var i = 0; i < s.Length; i++)
        {
            if (!char.IsSurrogate(s[i]))
            {
                continue;
            }
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
                continue;
            }
            return string.Create(s.Length, s, static (span, src) =>
            {
                for (var j = 0; j < src.Length; j++)
                {
                    var ch = src[j];
                    if (char.IsHighSurrogate(ch) && j + 1 < src.Length && char.IsLowSurrogate(src[j + 1]))
                    {
                        span[j] = ch;
                        span[j + 1] = src[j + 1];
                        j++;
                    }
                    else
                    {
                        span[j] = char.IsSurrogate(ch) ? '\uFFFD' : ch;
                    }
                }
            });
        }
        return s;
    }
}
