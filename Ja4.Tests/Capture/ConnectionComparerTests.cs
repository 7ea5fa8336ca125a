using System.Net;
using Ja4.Modules.Capture.Decoding;

namespace Ja4.Tests.Capture;

public sealed class ConnectionComparerTests
{
    private static FlowId Flow(string src, ushort srcPort, string dst, ushort dstPort) =>
        new(IpAddr.From(IPAddress.Parse(src)), srcPort, IpAddr.From(IPAddress.Parse(dst)), dstPort);

    [Theory]
    [InlineData("10.0.0.1", "10.0.0.2")]
    [InlineData("2001:db8::1", "2001:db8::2")]
    public void A_flow_and_its_reverse_are_one_connection(string a, string b)
    {
        var c = ConnectionComparer.Instance;
        var flow = Flow(a, 50000, b, 443);
        Assert.True(c.Equals(flow, flow.Reverse()));
        Assert.Equal(c.GetHashCode(flow), c.GetHashCode(flow.Reverse()));
    }

    [Fact]
    public void Other_ports_or_addresses_are_other_connections()
    {
        var c = ConnectionComparer.Instance;
        var flow = Flow("10.0.0.1", 50000, "10.0.0.2", 443);
        Assert.False(c.Equals(flow, Flow("10.0.0.1", 50001, "10.0.0.2", 443)));
        Assert.False(c.Equals(flow, Flow("10.0.0.3", 50000, "10.0.0.2", 443)));
        // Ports swapped but not the addresses: not the reverse of the flow.
        Assert.False(c.Equals(flow, Flow("10.0.0.1", 443, "10.0.0.2", 50000)));
    }

    [Fact]
    public void A_table_of_connections_finds_either_direction()
    {
        var table = new Dictionary<FlowId, int>(ConnectionComparer.Instance);
        for (ushort port = 1000; port < 3000; port++)
        {
            table.Add(Flow("192.0.2.1", port, "198.51.100.7", 443), port);
        }
        for (ushort port = 1000; port < 3000; port++)
        {
            Assert.Equal(port, table[Flow("198.51.100.7", 443, "192.0.2.1", port)]);
        }
        Assert.False(table.ContainsKey(Flow("192.0.2.1", 3000, "198.51.100.7", 443)));
    }
}
