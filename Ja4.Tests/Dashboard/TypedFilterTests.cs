using Ja4.Modules.Dashboard.Components.Shared;
using Microsoft.Extensions.Time.Testing;

namespace Ja4.Tests.Dashboard;

public sealed class TypedFilterTests
{
    [Fact]
    public void The_value_is_applied_once_after_typing_pauses_and_the_url_never_overwrites_pending_text()
    {
        var clock = new FakeTimeProvider();
        var applied = new List<string?>();
        using var box = new TypedFilter(clock, work => work(), applied.Add);

        box.Typed("c");
        clock.Advance(TimeSpan.FromMilliseconds(200));
        box.Typed("cu");
        clock.Advance(TimeSpan.FromMilliseconds(200));
        box.Typed("curl");
        // A re-render from the old URL while typing: the box keeps what was typed.
        box.FromUrl(null);
        Assert.Equal("curl", box.Text);
        Assert.True(box.Pending);
        Assert.Empty(applied);

        clock.Advance(TimeSpan.FromMilliseconds(249));
        Assert.Empty(applied);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(["curl"], applied);
        Assert.False(box.Pending);

        // Once applied, the URL is the truth again (back button, shared link).
        box.FromUrl("python");
        Assert.Equal("python", box.Text);
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(["curl"], applied);
    }
}
