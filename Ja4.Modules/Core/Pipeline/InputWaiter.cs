using System.Threading.Channels;

namespace Ja4.Modules.Core.Pipeline;

/// <summary>
/// Puts a worker that reads several channels to sleep until one of them may have data, one has
/// completed, or a deadline passes. A read wait still pending when a call returns is kept for the
/// next call instead of being cancelled: a cancelled channel wait completes by allocating and
/// throwing an <see cref="OperationCanceledException"/>, and a busy worker waits thousands of
/// times a second. One timer serves every call until it fires or an earlier deadline comes.
/// Every call must pass the same token (the worker's stopping token); the pending waits use it.
/// </summary>
public sealed class InputWaiter(TimeProvider time)
{
    private sealed class Input(Func<CancellationToken, ValueTask<bool>> wait, Task completion)
    {
        public readonly Func<CancellationToken, ValueTask<bool>> Wait = wait;
        public readonly Task Completion = completion;
        public Task<bool>? Pending;
    }

    private readonly List<Input> _inputs = [];
    private readonly List<Task> _waits = new(4);
    private Task? _timer;
    private DateTimeOffset _timerDue;
    private CancellationTokenSource? _timerCancel;

    /// <summary>Adds an input (nothing when <paramref name="reader"/> is null); returns this waiter.</summary>
    public InputWaiter Add<T>(ChannelReader<T>? reader)
    {
        if (reader is not null)
        {
            _inputs.Add(new Input(reader.WaitToReadAsync, reader.Completion));
        }
        return this;
    }

    /// <summary>
    /// Returns when an input may have data or has completed, when <paramref name="deadline"/> (if any)
    /// has passed, or at once when every input has completed and there is no deadline (a waiter without
    /// inputs and deadline sleeps until the stop); throws
    /// <see cref="OperationCanceledException"/> when <paramref name="token"/> is cancelled.
    /// </summary>
    public async Task WaitAsync(DateTimeOffset? deadline, CancellationToken token)
    {
        _waits.Clear();
        foreach (var input in _inputs)
        {
            if (input.Pending is null || input.Pending.IsCompleted)
            {
                input.Pending = input.Completion.IsCompleted ? null : input.Wait(token).AsTask();
            }
            if (input.Pending is not null)
            {
                _waits.Add(input.Pending);
            }
        }
        if (deadline is { } due)
        {
            var now = time.GetUtcNow();
            if (due <= now)
            {
                return;
            }
            if (_timer is null || _timer.IsCompleted || _timerDue > due)
            {
                // An earlier deadline replaces the timer (rare: deadlines mostly move forward).
                _timerCancel?.Cancel();
                _timerCancel?.Dispose();
                _timerCancel = CancellationTokenSource.CreateLinkedTokenSource(token);
                _timer = Task.Delay(due - now, time, _timerCancel.Token);
                _timerDue = due;
            }
            _waits.Add(_timer);
        }
        if (_waits.Count == 0)
        {
            if (_inputs.Count == 0)
            {
                // Nothing will ever come: sleep until the stop.
                await Task.Delay(Timeout.InfiniteTimeSpan, time, token).ConfigureAwait(false);
            }
            return;
        }
        await Task.WhenAny(_waits).ConfigureAwait(false);
        token.ThrowIfCancellationRequested();
    }
}
