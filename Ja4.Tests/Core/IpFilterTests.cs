using System.Net;
using System.Net.Sockets;
using Ja4.Modules.Core.Filtering;
using Ja4.Modules.Core.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Ja4.Tests.Core;

public sealed class IpFilterTests
{
    private static IPAddress Ip(string s) => IPAddress.Parse(s);

    private static IpFilter Filter(string[] allow, string[] deny, Ja4Metrics? metrics = null) =>
        IpFilter.FromOptions(new IpFilterOptions { Allow = [.. allow], Deny = [.. deny] }, metrics);

    [Theory]
    [InlineData("10.0.0.0/8", "10.255.255.255", true)]
    [InlineData("10.0.0.0/8", "11.0.0.0", false)]
    [InlineData("10.0.0.0/8", "9.255.255.255", false)]
    [InlineData("192.168.1.0/24", "192.168.1.77", true)]
    [InlineData("192.168.1.0/24", "192.168.2.1", false)]
    [InlineData("192.168.1.7", "192.168.1.7", true)]
    [InlineData("192.168.1.7", "192.168.1.8", false)]
    [InlineData("192.168.1.7/32", "192.168.1.7", true)]
    [InlineData("0.0.0.0/0", "203.0.113.9", true)]
    [InlineData("0.0.0.0/0", "2001:db8::1", false)]
    [InlineData("10.1.2.3/8", "10.200.0.1", true)] // host bits ignored
    [InlineData("172.16.0.0/12", "172.31.255.255", true)]
    [InlineData("172.16.0.0/12", "172.32.0.0", false)]
    [InlineData("2001:db8::/32", "2001:db8:ffff::1", true)]
    [InlineData("2001:db8::/32", "2001:db9::1", false)]
    [InlineData("fe80::/10", "febf::1", true)]
    [InlineData("fe80::/10", "fec0::1", false)]
    [InlineData("::/0", "2001:db8::1", true)]
    [InlineData("::/0", "10.0.0.1", false)]
    [InlineData("::1", "::1", true)]
    [InlineData("::1/128", "::2", false)]
    // IPv4-mapped clients match IPv4 rules, and mapped rules are IPv4 rules.
    [InlineData("10.0.0.0/8", "::ffff:10.1.2.3", true)]
    [InlineData("::ffff:10.0.0.0/104", "10.1.2.3", true)]
    [InlineData("::ffff:10.0.0.0/104", "::ffff:11.1.2.3", false)]
    [InlineData("::ffff:0:0/96", "198.51.100.1", true)]
    [InlineData("2001:db8::/32", "::ffff:10.1.2.3", false)]
    public void Cidr_contains(string cidr, string address, bool expected)
    {
        Assert.Equal(expected, CidrRange.Parse(cidr).Contains(Ip(address)));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("10.0.0/8")]
    [InlineData("10")]
    [InlineData("10.0.0.0/33")]
    [InlineData("10.0.0.0/")]
    [InlineData("10.0.0.0/-1")]
    [InlineData("10.0.0.0/+8")]
    [InlineData("10.0.0.0/8/8")]
    [InlineData("10.0.0.256/8")]
    [InlineData("0x0a.0.0.0/8")]
    [InlineData("2001:db8::/129")]
    [InlineData("fe80::1%eth0/64")]
    [InlineData("example.com/8")]
    [InlineData("10.0.0.0 /8")]
    public void Rejects_what_is_not_a_network(string text)
    {
        Assert.False(CidrRange.TryParse(text, out _));
    }

    [Fact]
    public void Parsed_networks_print_in_canonical_form()
    {
        Assert.Equal("10.0.0.0/8", CidrRange.Parse(" 10.9.8.7/8 ").ToString());
        Assert.Equal("10.0.0.0/8", CidrRange.Parse("::ffff:10.0.0.0/104").ToString());
        Assert.Equal("2001:db8::/32", CidrRange.Parse("2001:DB8:1::/32").ToString());
        Assert.Equal(AddressFamily.InterNetworkV6, CidrRange.Parse("::ffff:0:0/95").Family);
    }

    [Fact]
    public void Empty_filter_keeps_everyone()
    {
        var f = Filter([], []);
        Assert.True(f.IsEmpty);
        Assert.True(f.Allows(Ip("10.0.0.1")));
        Assert.True(f.Allows(Ip("2001:db8::1")));
    }

    [Fact]
    public void Deny_list_drops_only_its_networks_for_both_families()
    {
        var f = Filter([], ["10.0.0.0/8", "2001:db8:bad::/48"]);
        Assert.False(f.Allows(Ip("10.20.30.40")));
        Assert.False(f.Allows(Ip("::ffff:10.20.30.40")));
        Assert.False(f.Allows(Ip("2001:db8:bad::1")));
        Assert.True(f.Allows(Ip("2001:db8:600d::1")));
        Assert.True(f.Allows(Ip("198.51.100.1")));
    }

    [Fact]
    public void Allow_list_keeps_only_its_networks_and_deny_wins_inside_it()
    {
        var f = Filter(["192.0.2.0/24", "2001:db8::/32"], ["192.0.2.128/25"]);
        Assert.True(f.Allows(Ip("192.0.2.1")));
        Assert.True(f.Allows(Ip("::ffff:192.0.2.1")));
        Assert.False(f.Allows(Ip("192.0.2.200")));
        Assert.False(f.Allows(Ip("198.51.100.1")));
        Assert.True(f.Allows(Ip("2001:db8::5")));
        // An IPv4-only allow list says nothing about IPv6 clients, which are then left out.
        Assert.False(Filter(["192.0.2.0/24"], []).Allows(Ip("2001:db8::5")));
    }

    [Fact]
    public void Drops_are_counted_per_module()
    {
        var metrics = new Ja4Metrics();
        var f = Filter([], ["10.0.0.0/8"], metrics);
        var capture = f.For("Capture");
        var correlation = f.For("Correlation");
        Assert.False(capture.Admit(Ip("10.0.0.1")));
        Assert.False(capture.Admit(Ip("10.0.0.2")));
        Assert.True(capture.Admit(Ip("11.0.0.1")));
        Assert.False(correlation.Admit(Ip("10.0.0.3")));
        Assert.False(correlation.Allows(Ip("10.0.0.3"))); // not counted
        Assert.Equal(2, metrics.Read("ja4_ipfilter_dropped_total", ("module", "Capture")));
        Assert.Equal(1, metrics.Read("ja4_ipfilter_dropped_total", ("module", "Correlation")));
        Assert.Equal(2, capture.Dropped);
    }

    [Fact]
    public void Registration_binds_the_top_level_section_once()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["IpFilter:Allow:0"] = "198.51.100.0/24",
                ["IpFilter:Deny:0"] = "198.51.100.9",
            }).Build();
        var services = new ServiceCollection();
        services.AddJa4IpFilter(configuration);
        var count = services.Count;
        services.AddJa4IpFilter(configuration);
        Assert.Equal(count, services.Count);
        using var sp = services.BuildServiceProvider();
        var f = sp.GetRequiredService<IpFilter>();
        Assert.True(f.Allows(Ip("198.51.100.8")));
        Assert.False(f.Allows(Ip("198.51.100.9")));
        Assert.False(f.Allows(Ip("203.0.113.1")));
    }
}
