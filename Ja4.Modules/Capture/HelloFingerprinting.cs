using Ja4.Modules.Core.Events;
using Ja4.Modules.Fingerprints;

namespace Ja4.Modules.Capture;

/// <summary>Turns a captured ClientHello into the <see cref="TlsClientHello"/> event with every fingerprint.</summary>
public static class HelloFingerprinting
{
    /// <summary>
    /// Parses and fingerprints <paramref name="captured"/>; null (and a <c>parse_error</c> give-up
    /// counted) when the bytes are not a valid ClientHello. With a <paramref name="cache"/> (one per
    /// capture thread), repeated client stacks are not hashed again and share their strings.
    /// </summary>
    public static TlsClientHello? ToEvent(CapturedHello captured, CaptureCounters counters, out ClientHelloError error,
        FingerprintCache? cache = null)
    {
        if (!ClientHelloParser.TryParse(captured.Message, out var hello, out error) || hello is null)
        {
            counters.GiveUp(GiveUpReason.ParseError).Increment();
            return null;
        }
        var f = TlsFingerprinter.Compute(hello, captured.Transport, cache);
        (captured.Transport == Transport.Tcp ? counters.TcpHellos : counters.QuicHellos).Increment();
        return new TlsClientHello(
            captured.Timestamp,
            captured.Flow.ToFlowKey(),
            captured.Transport,
            f.Sni,
            f.Alpn,
            f.TlsVersion,
            f.LegacyVersion,
            f.Ja4,
            f.Ja4R,
            f.Ja4O,
            f.Ja4Ro,
            f.Ja3,
            f.Ja3Full);
    }
}
