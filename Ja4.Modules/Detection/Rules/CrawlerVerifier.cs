using System.Collections.Concurrent;
using System.Net;

namespace Ja4.Modules.Detection.Rules;

/// <summary>Result of checking a self-declared crawler's address.</summary>
public enum CrawlerCheck : byte
{
    /// <summary>PTR name under the operator's domain, and that name resolves back to the address.</summary>
    Verified = 0,
    /// <summary>DNS answered, and the answer does not confirm the claim.</summary>
    Failed = 1,
    /// <summary>DNS could not be asked or did not answer: no judgement.</summary>
    Unverified = 2,
}

public sealed record CrawlerVerification(CrawlerCheck Check, string Crawler, string Detail);

/// <summary>
/// Forward-confirmed reverse DNS, as the search engines document it for their crawlers: the PTR
/// name of the address must be in the operator's domain, and that name must resolve back to the
/// address. Results are cached per address and crawler for <c>cacheFor</c>.
/// </summary>
public sealed class CrawlerVerifier(IDnsResolver resolver, TimeProvider time, TimeSpan cacheFor)
{
    private readonly ConcurrentDictionary<(IPAddress, string), (CrawlerVerification Result, DateTimeOffset At)> _cache = new();

    public async Task<CrawlerVerification> VerifyAsync(IPAddress address, DeclaredCrawler crawler, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_cache.TryGetValue((address, crawler.Name), out var hit) && now - hit.At < cacheFor)
        {
            return hit.Result;
        }
        var result = await CheckAsync(address, crawler, cancellationToken).ConfigureAwait(false);
        // An unavailable resolver is asked again next run rather than remembered.
        if (result.Check != CrawlerCheck.Unverified)
        {
            _cache[(address, crawler.Name)] = (result, now);
        }
        return result;
    }

    private async Task<CrawlerVerification> CheckAsync(IPAddress address, DeclaredCrawler crawler, CancellationToken ct)
    {
        var reverse = await resolver.ReverseAsync(address, ct).ConfigureAwait(false);
        switch (reverse.Status)
        {
            case DnsStatus.Unavailable:
                return new(CrawlerCheck.Unverified, crawler.Name, $"reverse DNS of {address} unavailable");
            case DnsStatus.NotFound:
                return new(CrawlerCheck.Failed, crawler.Name, $"{address} has no PTR name");
        }
        var inDomain = reverse.Names.Select(n => n.TrimEnd('.').ToLowerInvariant())
            .FirstOrDefault(n => crawler.Domains.Any(d => n == d || n.EndsWith("." + d, StringComparison.Ordinal)));
        if (inDomain is null)
        {
            return new(CrawlerCheck.Failed, crawler.Name,
                $"PTR {string.Join(", ", reverse.Names)} of {address} is not under {string.Join(" or ", crawler.Domains)}");
        }
        var forward = await resolver.ForwardAsync(inDomain, ct).ConfigureAwait(false);
        var normalized = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return forward.Status switch
        {
            DnsStatus.Unavailable => new(CrawlerCheck.Unverified, crawler.Name, $"forward DNS of {inDomain} unavailable"),
            _ when forward.Addresses.Contains(normalized) => new(CrawlerCheck.Verified, crawler.Name, $"PTR {inDomain} resolves back to {address}"),
            _ => new(CrawlerCheck.Failed, crawler.Name, $"PTR {inDomain} does not resolve back to {address}"),
        };
    }
}
