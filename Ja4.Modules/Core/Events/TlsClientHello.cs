namespace Ja4.Modules.Core.Events;

/// <summary>
/// One TLS (or QUIC) ClientHello seen on the wire, with every fingerprint computed from it.
/// Produced by the capture module, consumed by correlation and storage.
/// </summary>
/// <param name="Timestamp">Capture time of the packet that completed the hello.</param>
/// <param name="Flow">Client and server endpoints (the client is the sender of the hello).</param>
/// <param name="Transport">TCP (TLS) or UDP (QUIC).</param>
/// <param name="Sni">Server name from the server_name extension, or null.</param>
/// <param name="Alpn">ALPN protocol names in offered order (empty when absent).</param>
/// <param name="TlsVersion">Highest offered version, e.g. "1.3" (supported_versions, else legacy version).</param>
/// <param name="LegacyVersion">The ClientHello's legacy_version field (0x0303 for TLS 1.2 and 1.3).</param>
/// <param name="Ja4">JA4 (FoxIO spec, BSD-3-Clause).</param>
/// <param name="Ja4R">JA4_r: sorted raw form.</param>
/// <param name="Ja4O">JA4_o: hashed, original order.</param>
/// <param name="Ja4Ro">JA4_ro: raw, original order.</param>
/// <param name="Ja3">JA3 MD5 hex.</param>
/// <param name="Ja3Full">The JA3 string before hashing.</param>
public sealed record TlsClientHello(
    DateTimeOffset Timestamp,
    FlowKey Flow,
    Transport Transport,
    string? Sni,
    IReadOnlyList<string> Alpn,
    string TlsVersion,
    ushort LegacyVersion,
    string Ja4,
    string Ja4R,
    string Ja4O,
    string Ja4Ro,
    string Ja3,
    string Ja3Full) : ISizedEvent
{
    /// <summary>The object with its fields (~120 bytes), its strings and its ALPN list.</summary>
    public long ApproximateBytes
    {
        get
        {
            var bytes = 120 + EventSize.Of(Sni) + EventSize.Of(TlsVersion) + EventSize.Of(Ja4) + EventSize.Of(Ja4R)
                        + EventSize.Of(Ja4O) + EventSize.Of(Ja4Ro) + EventSize.Of(Ja3) + EventSize.Of(Ja3Full)
                        + 2 * EventSize.ObjectOverhead + 8L * Alpn.Count;
            for (var i = 0; i < Alpn.Count; i++)
            {
                bytes += EventSize.Of(Alpn[i]);
            }
            return bytes;
        }
    }
}

/// <summary>Why capture stopped tracking a connection.</summary>
public enum ConnectionEndReason : byte
{
    Fin = 0,
    Rst = 1,
}

/// <summary>End of a tracked client connection (FIN or RST seen by capture).</summary>
public sealed record ConnectionClosed(DateTimeOffset Timestamp, FlowKey Flow, ConnectionEndReason Reason);
