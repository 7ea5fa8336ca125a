using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;
using Ja4.Modules.Core.Pipeline;
using Microsoft.Extensions.Time.Testing;

namespace Ja4.Tests.Core;

public sealed class InputWaiterTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(10);

    /// <summary>A reader that counts the waits asked of it.</summary>
    private sealed class CountingReader(ChannelReader<int> inner) : ChannelReader<int>
    {
        public int Waits;

        public override bool TryRead([MaybeNullWhen(false)] out int item) => inner.TryRead(out item);

        public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Waits);
            return inner.WaitToReadAsync(cancellationToken);
        }

        public override Task Completion => inner.Completion;
    }

    [Fact]
    public async Task A_pending_read_wait_is_kept_across_calls_that_end_by_deadline()
    {
        var time = new FakeTimeProvider();
        var channel = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleReader = true });
        var reader = new CountingReader(channel.Reader);
        var waiter = new InputWaiter(time).Add(reader);
        using var stop = new CancellationTokenSource();

        for (var i = 0; i < 100; i++)
        {
            var wait = waiter.WaitAsync(time.GetUtcNow() + TimeSpan.FromMilliseconds(10), stop.Token);
            Assert.False(wait.IsCompleted);
            time.Advance(TimeSpan.FromMilliseconds(10));
            await wait.WaitAsync(Guard);
        }
        // One wait served all hundred calls; it still wakes the next one when data comes.
        Assert.Equal(1, reader.Waits);
        var last = waiter.WaitAsync(time.GetUtcNow() + TimeSpan.FromHours(1), stop.Token);
        Assert.False(last.IsCompleted);
        channel.Writer.TryWrite(7);
        await last.WaitAsync(Guard);
        Assert.Equal(1, reader.Waits);
        Assert.True(reader.TryRead(out var item) && item == 7);
    }

    [Fact]
    public async Task Each_input_wakes_the_waiter()
    {
        var time = new FakeTimeProvider();
        var a = Channel.CreateUnbounded<int>();
        var b = Channel.CreateBounded<string>(4);
        var waiter = new InputWaiter(time).Add(a.Reader).Add(b.Reader).Add<long>(null);

        var first = waiter.WaitAsync(null, CancellationToken.None);
        Assert.False(first.IsCompleted);
        b.Writer.TryWrite("x");
        await first.WaitAsync(Guard);
        Assert.True(b.Reader.TryRead(out _));

        var second = waiter.WaitAsync(null, CancellationToken.None);
        Assert.False(second.IsCompleted);
        a.Writer.TryWrite(1);
        await second.WaitAsync(Guard);
    }

    [Fact]
    public async Task An_earlier_deadline_replaces_the_timer()
    {
        var time = new FakeTimeProvider();
        var channel = Channel.CreateUnbounded<int>();
        var waiter = new InputWaiter(time).Add(channel.Reader);

        var late = waiter.WaitAsync(time.GetUtcNow() + TimeSpan.FromSeconds(10), CancellationToken.None);
        channel.Writer.TryWrite(1);
        await late.WaitAsync(Guard);
        Assert.True(channel.Reader.TryRead(out _));

        var early = waiter.WaitAsync(time.GetUtcNow() + TimeSpan.FromSeconds(1), CancellationToken.None);
        time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(early.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await early.WaitAsync(Guard);

        // A later deadline keeps the timer it has; a passed one returns at once.
        var again = waiter.WaitAsync(time.GetUtcNow() + TimeSpan.FromSeconds(5), CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(5));
        await again.WaitAsync(Guard);
        Assert.True(waiter.WaitAsync(time.GetUtcNow(), CancellationToken.None).IsCompleted);
    }

    [Fact]
    public async Task Completed_inputs_end_the_wait_and_a_stop_throws()
    {
        var time = new FakeTimeProvider();
        var channel = Channel.CreateUnbounded<int>();
        var waiter = new InputWaiter(time).Add(channel.Reader);

        var pending = waiter.WaitAsync(null, CancellationToken.None);
        channel.Writer.Complete();
        await pending.WaitAsync(Guard);
        await waiter.WaitAsync(null, CancellationToken.None).WaitAsync(Guard);

        var open = Channel.CreateUnbounded<int>();
        using var stop = new CancellationTokenSource();
        var stopped = new InputWaiter(time).Add(open.Reader).WaitAsync(time.GetUtcNow() + TimeSpan.FromHours(1), stop.Token);
        Assert.False(stopped.IsCompleted);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stopped.WaitAsync(Guard));
    }

    [Fact]
    public async Task Without_inputs_or_deadline_it_sleeps_until_the_stop()
    {
        var time = new FakeTimeProvider();
        var waiter = new InputWaiter(time);
        using var stop = new CancellationTokenSource();
        var wait = waiter.WaitAsync(null, stop.Token);
        time.Advance(TimeSpan.FromDays(1));
        await Task.Delay(50);
        Assert.False(wait.IsCompleted);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(Guard));
    }
}
