using Ja4.Modules.Core.Events;
using Ja4.Modules.Fingerprints;
using Ja4.Tests.TestSupport;
using static Ja4.Tests.Fingerprints.TlsFingerprinterTests;

namespace Ja4.Tests.Fingerprints;

/// <summary>
/// The cache changes nothing but the cost: through one cache, every reference hello gives the
/// reference values, twice, and the second time (GREASE added, so other bytes) the same string
/// instances; the cache stays bounded under a flood of distinct stacks.
/// </summary>
public sealed class FingerprintCacheTests
{
    public static TheoryData<string, int> ReferenceHellos() => TlsFingerprinterTests.ReferenceHellos();

    [Theory]
    [MemberData(nameof(ReferenceHellos))]
    public void Cached_fingerprints_equal_the_reference_and_repeat_as_the_same_strings(string pcap, int index)
    {
        var e = Corpus.Expected(pcap)[index];
        var transport = Str(e, "transport") == "udp" ? Transport.Udp : Transport.Tcp;
        var cache = new FingerprintCache();
        Assert.True(ClientHelloParser.TryParse(Rebuild(e, grease: false), out var plain, out _));
        Assert.True(ClientHelloParser.TryParse(Rebuild(e, grease: true), out var greased, out _));

        var first = TlsFingerprinter.Compute(plain!, transport, cache);
        var second = TlsFingerprinter.Compute(greased!, transport, cache);

        foreach (var fp in new[] { first, second })
        {
            AssertReference(e, fp);
            Assert.Equal(TlsFingerprinter.Compute(plain!, transport).Alpn, fp.Alpn);
        }
        Assert.Same(first.Ja4, second.Ja4);
        Assert.Same(first.Ja4R, second.Ja4R);
        Assert.Same(first.Ja4Ro, second.Ja4Ro);
        Assert.Same(first.Ja3Full, second.Ja3Full);
        Assert.Same(first.Alpn, second.Alpn);
    }

    [Fact]
    public void Distinct_stacks_beyond_the_bound_are_still_right_and_the_cache_stays_bounded()
    {
        var cache = new FingerprintCache();
        for (var i = 0; i < FingerprintCache.MaxEntries + 100; i++)
        {
            var cipher = (ushort)(0x2000 + i);
            if (TlsConstants.IsGrease(cipher))
            {
                continue;
            }
            var builder = new ClientHelloBuilder();
            builder.Ciphers.AddRange([0x1301, cipher]);
            builder.ServerName("a.example").U16ListExtension(0x000a, [0x001d]).PointFormats(0);
            Assert.True(ClientHelloParser.TryParse(builder.Build(), out var hello, out _));
            var cached = TlsFingerprinter.Compute(hello!, Transport.Tcp, cache);
            var fresh = TlsFingerprinter.Compute(hello!, Transport.Tcp);
            Assert.Equal(fresh, cached with { Alpn = fresh.Alpn });
            Assert.Equal($"771,4865-{cipher},0-10-11,29,0", cached.Ja3Full);
        }
        Assert.True(cache.Sorted.Count <= FingerprintCache.MaxEntries);
        Assert.True(cache.Original.Count <= FingerprintCache.MaxEntries);
        Assert.True(cache.Ja3.Count <= FingerprintCache.MaxEntries);
    }
}
