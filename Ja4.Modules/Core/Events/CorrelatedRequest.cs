namespace Ja4.Modules.Core.Events;

/// <summary>How a request was (or was not) tied to a TLS handshake.</summary>
public enum MatchStatus : byte
{
    /// <summary>The handshake of the request's connection was found.</summary>
    Matched = 0,
    /// <summary>The request came over plain HTTP: no handshake to find.</summary>
    PlainHttp = 1,
    /// <summary>TLS request, but no handshake was seen for its connection within the wait window.</summary>
    NoHandshakeSeen = 2,
    /// <summary>The capture module is disabled on this node.</summary>
    CaptureDisabled = 3,
    /// <summary>The connection's handshake was evicted (memory cap) before the request arrived.</summary>
    Evicted = 4,
    /// <summary>TLS request pushed out unmatched because too many requests were waiting for handshakes.</summary>
    PendingOverflow = 5,
}

/// <summary>An HTTP request joined with the ClientHello of its connection (when found).</summary>
public sealed record CorrelatedRequest(
    HttpRequest Request,
    TlsClientHello? Handshake,
    MatchStatus Status,
    DateTimeOffset CorrelatedAt) : ISizedEvent
{
    /// <summary>The request and the hello it keeps alive (the hello may be shared with other requests of its connection).</summary>
    public long ApproximateBytes => 48 + Request.ApproximateBytes + (Handshake?.ApproximateBytes ?? 0);
}
