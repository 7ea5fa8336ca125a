using System.Net;
using Ja4.Modules.Capture.Decoding;
using Ja4.Modules.Core.Events;

namespace Ja4.Tests.Core;

public sealed class AddressInternerTests
{
    [Theory]
    [InlineData("192.0.2.17")]
    [InlineData("2001:db8::17")]
    public void Equal_addresses_from_text_and_from_the_wire_share_one_instance(string text)
    {
        var fromText = AddressInterner.Intern(IPAddress.Parse(text));
        var again = AddressInterner.Intern(IPAddress.Parse(text));
        var fromBytes = AddressInterner.Intern(IPAddress.Parse(text).GetAddressBytes());
        var fromWire = IpAddr.From(IPAddress.Parse(text)).ToSharedIPAddress();
        Assert.Same(fromText, again);
        Assert.Same(fromText, fromBytes);
        Assert.Same(fromText, fromWire);
        Assert.Equal(IPAddress.Parse(text), fromText);
    }

    [Fact]
    public void Flow_keys_from_both_producers_share_their_addresses()
    {
        var client = new IpAddr(0, 0x0000_FFFF_C633_6407UL); // 198.51.100.7, as capture decodes it (IPv4-mapped inside)
        var server = IpAddr.From(IPAddress.Parse("203.0.113.5"));
        var fromCapture = new FlowId(client, 50000, server, 443).ToFlowKey();
        var fromApache = FlowKey.Create(IPAddress.Parse("::ffff:198.51.100.7"), 50000, IPAddress.Parse("203.0.113.5"), 443);
        Assert.Equal(fromApache, fromCapture);
        Assert.Equal(IPAddress.Parse("198.51.100.7"), fromCapture.ClientIp);
        Assert.Same(fromApache.ClientIp, fromCapture.ClientIp);
        Assert.Same(fromApache.ServerIp, fromCapture.ServerIp);
    }

    [Fact]
    public void An_IPv4_address_and_its_mapped_IPv6_form_stay_distinct_without_normalising()
    {
        var v4 = AddressInterner.Intern(IPAddress.Parse("192.0.2.44"));
        var mapped = AddressInterner.Intern(IPAddress.Parse("::ffff:192.0.2.44"));
        Assert.Equal(System.Net.Sockets.AddressFamily.InterNetwork, v4.AddressFamily);
        Assert.Equal(System.Net.Sockets.AddressFamily.InterNetworkV6, mapped.AddressFamily);
        Assert.NotEqual(v4, mapped);
    }

    [Fact]
    public void Scoped_IPv6_addresses_are_not_shared()
    {
        var scoped = IPAddress.Parse("fe80::1%2");
        Assert.Same(scoped, AddressInterner.Intern(scoped));
        var unscoped = AddressInterner.Intern(IPAddress.Parse("fe80::1"));
        Assert.Equal(0, unscoped.ScopeId);
        Assert.NotSame(scoped, unscoped);
    }

    [Fact]
    public void Many_distinct_addresses_on_many_threads_each_come_back_equal_to_themselves()
    {
        // 200,000 addresses (more than the table's slots, so slots are replaced under contention):
        // every answer must be the address asked for, whichever instance it is.
        var wrong = 0;
        Parallel.For(0, 4, worker =>
        {
            for (var i = 0; i < 200_000; i++)
            {
                var n = (uint)(i * 2654435761u) ^ (uint)worker;
                var bytes = new[] { (byte)(n >> 24), (byte)(n >> 16), (byte)(n >> 8), (byte)n };
                var shared = AddressInterner.Intern(bytes);
                if (!shared.GetAddressBytes().AsSpan().SequenceEqual(bytes))
                {
                    Interlocked.Increment(ref wrong);
                }
            }
        });
        Assert.Equal(0, wrong);
    }

    [Fact]
    public void Bytes_of_another_length_are_refused()
    {
        Assert.Throws<ArgumentException>(() => AddressInterner.Intern(new byte[5]));
    }
}
