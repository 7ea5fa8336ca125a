using System.Net;
using System.Net.Sockets;
using System.Text;
using Ja4.Modules.Detection.Rules;

namespace Ja4.Tests.Detection;

/// <summary>
/// A tiny authoritative DNS server on 127.0.0.1 (UDP, RFC 1035 wire format, written here
/// independently of the resolver under test) answering PTR, A and AAAA from a table.
/// </summary>
internal sealed class TestDnsServer : IDisposable
{
    private readonly UdpClient _udp = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly Dictionary<(string, ushort), List<byte[]>> _records = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public TestDnsServer()
    {
        _loop = Task.Run(ServeAsync);
    }

    public IPEndPoint EndPoint => (IPEndPoint)_udp.Client.LocalEndPoint!;

    public int Queries;

    public TestDnsServer Ptr(string address, string name)
    {
        var b = IPAddress.Parse(address).GetAddressBytes();
        Add($"{b[3]}.{b[2]}.{b[1]}.{b[0]}.in-addr.arpa", 12, Name(name));
        return this;
    }

    public TestDnsServer A(string name, string address)
    {
        var ip = IPAddress.Parse(address);
        Add(name, (ushort)(ip.AddressFamily == AddressFamily.InterNetwork ? 1 : 28), ip.GetAddressBytes());
        return this;
    }

    private void Add(string name, ushort type, byte[] data)
    {
        var key = (name.ToLowerInvariant(), type);
        if (!_records.TryGetValue(key, out var list))
        {
            _records[key] = list = [];
        }
        list.Add(data);
    }

    private static byte[] Name(string name)
    {
        var bytes = new List<byte>();
        foreach (var label in name.Split('.'))
        {
            bytes.Add((byte)label.Length);
            bytes.AddRange(Encoding.ASCII.GetBytes(label));
        }
        bytes.Add(0);
        return bytes.ToArray();
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            UdpReceiveResult received;
            try
            {
                received = await _udp.ReceiveAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            Interlocked.Increment(ref Queries);
            var q = received.Buffer;
            // Question: labels from offset 12 up to the zero byte, then type and class.
            var at = 12;
            var labels = new List<string>();
            while (q[at] != 0)
            {
                labels.Add(Encoding.ASCII.GetString(q, at + 1, q[at]));
                at += 1 + q[at];
            }
            var questionEnd = at + 5;
            var type = (ushort)((q[at + 1] << 8) | q[at + 2]);
            var name = string.Join('.', labels).ToLowerInvariant();
            var found = _records.TryGetValue((name, type), out var answers);
            var nameExists = _records.Keys.Any(k => k.Item1 == name);
            var reply = new List<byte>();
            reply.AddRange(q[..2]);
            reply.Add(0x81); // response, recursion desired
            reply.Add((byte)(0x80 | (nameExists ? 0 : 3))); // recursion available; NXDOMAIN when the name is unknown
            reply.AddRange(new byte[] { 0, 1, 0, (byte)(found ? answers!.Count : 0), 0, 0, 0, 0 });
            reply.AddRange(q[12..questionEnd]);
            foreach (var data in found ? answers! : [])
            {
                reply.AddRange([0xc0, 12]); // pointer to the question's name
                reply.AddRange([(byte)(type >> 8), (byte)type, 0, 1, 0, 0, 0x0e, 0x10, (byte)(data.Length >> 8), (byte)data.Length]);
                reply.AddRange(data);
            }
            await _udp.SendAsync(reply.ToArray(), received.RemoteEndPoint);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _udp.Dispose();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        _stop.Dispose();
    }
}

public sealed class DnsTests
{
    private static readonly DeclaredCrawler Googlebot = UserAgentParser.Crawlers.Single(c => c.Name == "Googlebot");

    private static UdpDnsResolver Resolver(TestDnsServer server) => new(server.EndPoint, TimeSpan.FromSeconds(5), TimeProvider.System);

    [Theory]
    [InlineData("66.249.66.1", "1.66.249.66.in-addr.arpa")]
    [InlineData("2001:db8::567:89ab", "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa")]
    public void Reverse_names_follow_rfc_1035_and_3596(string address, string name) =>
        Assert.Equal(name, UdpDnsResolver.ReverseName(IPAddress.Parse(address)));

    [Fact]
    public async Task A_real_crawler_address_is_verified_by_forward_confirmed_reverse_dns()
    {
        using var dns = new TestDnsServer()
            .Ptr("66.249.66.1", "crawl-66-249-66-1.googlebot.com")
            .A("crawl-66-249-66-1.googlebot.com", "66.249.66.1");
        var verifier = new CrawlerVerifier(Resolver(dns), TimeProvider.System, TimeSpan.FromHours(1));
        var result = await verifier.VerifyAsync(IPAddress.Parse("66.249.66.1"), Googlebot, CancellationToken.None);
        Assert.Equal(CrawlerCheck.Verified, result.Check);
        Assert.Contains("crawl-66-249-66-1.googlebot.com", result.Detail);
        // Cached: a second check asks nothing.
        var asked = dns.Queries;
        Assert.Equal(CrawlerCheck.Verified, (await verifier.VerifyAsync(IPAddress.Parse("66.249.66.1"), Googlebot, CancellationToken.None)).Check);
        Assert.Equal(asked, dns.Queries);
    }

    [Fact]
    public async Task Ptr_outside_the_operators_domain_fails()
    {
        using var dns = new TestDnsServer().Ptr("203.0.113.9", "host9.cheap-vps.example").A("host9.cheap-vps.example", "203.0.113.9");
        var result = await new CrawlerVerifier(Resolver(dns), TimeProvider.System, TimeSpan.Zero)
            .VerifyAsync(IPAddress.Parse("203.0.113.9"), Googlebot, CancellationToken.None);
        Assert.Equal(CrawlerCheck.Failed, result.Check);
        Assert.Contains("not under googlebot.com", result.Detail);
    }

    [Fact]
    public async Task A_forged_ptr_that_does_not_resolve_back_fails()
    {
        // Whoever controls the reverse zone of 203.0.113.10 can claim a googlebot.com name; the forward lookup exposes it.
        using var dns = new TestDnsServer().Ptr("203.0.113.10", "crawl-1-2-3-4.googlebot.com").A("crawl-1-2-3-4.googlebot.com", "66.249.66.4");
        var result = await new CrawlerVerifier(Resolver(dns), TimeProvider.System, TimeSpan.Zero)
            .VerifyAsync(IPAddress.Parse("203.0.113.10"), Googlebot, CancellationToken.None);
        Assert.Equal(CrawlerCheck.Failed, result.Check);
        Assert.Contains("does not resolve back", result.Detail);
    }

    [Fact]
    public async Task An_address_without_ptr_fails()
    {
        using var dns = new TestDnsServer();
        var result = await new CrawlerVerifier(Resolver(dns), TimeProvider.System, TimeSpan.Zero)
            .VerifyAsync(IPAddress.Parse("203.0.113.11"), Googlebot, CancellationToken.None);
        Assert.Equal(CrawlerCheck.Failed, result.Check);
        Assert.Contains("no PTR", result.Detail);
    }

    [Fact]
    public async Task No_dns_server_means_unverified_not_failed()
    {
        // A port where nothing listens: the kernel answers ICMP port unreachable.
        int port;
        using (var probe = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)))
        {
            port = ((IPEndPoint)probe.Client.LocalEndPoint!).Port;
        }
        var resolver = new UdpDnsResolver(new IPEndPoint(IPAddress.Loopback, port), TimeSpan.FromSeconds(2), TimeProvider.System);
        var result = await new CrawlerVerifier(resolver, TimeProvider.System, TimeSpan.FromHours(1))
            .VerifyAsync(IPAddress.Parse("66.249.66.1"), Googlebot, CancellationToken.None);
        Assert.Equal(CrawlerCheck.Unverified, result.Check);
        var none = await new CrawlerVerifier(new NoDnsResolver(), TimeProvider.System, TimeSpan.Zero)
            .VerifyAsync(IPAddress.Parse("66.249.66.1"), Googlebot, CancellationToken.None);
        Assert.Equal(CrawlerCheck.Unverified, none.Check);
    }

    [Fact]
    public void Malformed_replies_are_unavailable_never_an_exception()
    {
        var rng = new Random(3);
        var query = UdpDnsResolver.BuildQuery(7, "1.66.249.66.in-addr.arpa", 12);
        for (var i = 0; i < 2000; i++)
        {
            var reply = new byte[rng.Next(0, 80)];
            rng.NextBytes(reply);
            if (reply.Length > 12 && i % 2 == 0)
            {
                query.AsSpan(0, 12).CopyTo(reply);
                reply[2] |= 0x80;
                reply[3] &= 0xf0;
            }
            var answer = UdpDnsResolver.Parse(reply, 12);
            Assert.NotNull(answer);
        }
        // A compression pointer to itself must not loop.
        byte[] loop = [0, 7, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0, 0xc0, 12];
        Assert.Equal(DnsStatus.Unavailable, UdpDnsResolver.Parse(loop, 12).Status);
    }
}
