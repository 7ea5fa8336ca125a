using Ja4.Modules.Core.Metrics;

namespace Ja4.Tests.Core;

public sealed class Ja4MetricsTests
{
    [Fact]
    public void Renders_prometheus_text_with_escaped_labels()
    {
        var m = new Ja4Metrics();
        m.Counter("ja4_x_total", "Things.", ("reason", "a\"b\\c\nd")).Add(3);
        m.Gauge("ja4_depth", "Depth.", () => 7, ("channel", "Handshakes"));
        var text = m.RenderPrometheus();
        Assert.Equal(
            "# HELP ja4_depth Depth.\n# TYPE ja4_depth gauge\nja4_depth{channel=\"Handshakes\"} 7\n" +
            "# HELP ja4_x_total Things.\n# TYPE ja4_x_total counter\nja4_x_total{reason=\"a\\\"b\\\\c\\nd\"} 3\n",
            text);
    }

    [Fact]
    public void Same_name_and_labels_is_the_same_counter()
    {
        var m = new Ja4Metrics();
        m.Counter("c_total", "h", ("k", "v")).Increment();
        m.Counter("c_total", "h", ("k", "v")).Increment();
        m.Counter("c_total", "h", ("k", "w")).Increment();
        Assert.Equal(2, m.Read("c_total", ("k", "v")));
        Assert.Equal(1, m.Read("c_total", ("k", "w")));
        Assert.Null(m.Read("c_total"));
    }
}
