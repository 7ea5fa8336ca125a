namespace Ja4.Modules.Core.Events;

/// <summary>
/// One HTTP request as the Apache module (mod_reqin_log) reported it when the request was logged.
/// Produced by the HTTP ingest module, consumed by correlation.
/// </summary>
public sealed record HttpRequest : ISizedEvent
{
    /// <summary>Request start time (µs precision, UTC).</summary>
    public required DateTimeOffset Timestamp { get; init; }
    /// <summary>Client and server endpoints as Apache saw them on the socket.</summary>
    public required FlowKey Flow { get; init; }
    public required string Method { get; init; }
    public required string Path { get; init; }
    /// <summary>Query string without '?', or null when absent or switched off.</summary>
    public string? Query { get; init; }
    /// <summary>"HTTP/1.1", "HTTP/2.0", ...</summary>
    public required string Protocol { get; init; }
    public string? Host { get; init; }
    public string? VirtualHost { get; init; }
    /// <summary>Request headers in arrival order; redacted values are replaced by the module.</summary>
    public required IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; }
    public required int Status { get; init; }
    public long BytesSent { get; init; }
    public long DurationMicros { get; init; }
    /// <summary>Apache's connection id (c->id).</summary>
    public long ConnectionId { get; init; }
    /// <summary>Index of the request on its keep-alive connection (0 for the first).</summary>
    public int KeepAliveIndex { get; init; }
    public string? TlsProtocol { get; init; }
    public string? TlsCipher { get; init; }
    public string? TlsSni { get; init; }
    /// <summary>True when the module cut the record at its size cap.</summary>
    public bool Truncated { get; init; }
    /// <summary>Our own header-order signature (short hash) and its readable parts.</summary>
    public string? HeaderSignature { get; init; }
    public string? HeaderSignatureRaw { get; init; }

    public string? UserAgent => HeaderValue("User-Agent");

    /// <summary>
    /// The object with its fields (~200 bytes), its strings, and its header list (an array of name/value pairs,
    /// 16 bytes each, with the list object and the strings).
    /// </summary>
    public long ApproximateBytes
    {
        get
        {
            var bytes = 200 + EventSize.Of(Method) + EventSize.Of(Path) + EventSize.Of(Query) + EventSize.Of(Protocol)
                        + EventSize.Of(Host) + EventSize.Of(VirtualHost) + EventSize.Of(TlsProtocol) + EventSize.Of(TlsCipher)
                        + EventSize.Of(TlsSni) + EventSize.Of(HeaderSignature) + EventSize.Of(HeaderSignatureRaw)
                        + 2 * EventSize.ObjectOverhead + 16 + 16L * Headers.Count;
            // Indexed: a foreach over the interface would allocate an enumerator per call, several per request.
            for (var i = 0; i < Headers.Count; i++)
            {
                bytes += EventSize.Of(Headers[i].Key) + EventSize.Of(Headers[i].Value);
            }
            return bytes;
        }
    }

    /// <summary>First value of a header, case-insensitive name match.</summary>
    public string? HeaderValue(string name)
    {
        foreach (var h in Headers)
        {
            if (string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return h.Value;
            }
        }
        return null;
    }
}
