namespace Ja4.Modules.Dashboard.Components.Shared;

/// <summary>
/// A filter box whose value goes to the URL once typing pauses. The text is kept as typed on every
/// keystroke (so that a page which re-renders on a timer never puts an older value back into the
/// box, as a text field's own debounce does), and the apply callback runs <see cref="Delay"/> after
/// the last keystroke, on the component's dispatcher.
/// </summary>
public sealed class TypedFilter(TimeProvider clock, Func<Func<Task>, Task> dispatch, Action<string?> apply) : IDisposable
{
    /// <summary>Pause after the last keystroke before the value is applied.</summary>
    public static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(250);

    private ITimer? _timer;
    private long _generation;

    /// <summary>The text as typed.</summary>
    public string? Text { get; private set; }

    /// <summary>True while typed text waits to be applied (the URL must not overwrite it then).</summary>
    public bool Pending { get; private set; }

    /// <summary>Takes a keystroke's value and (re)starts the pause.</summary>
    public void Typed(string? value)
    {
        Text = value;
        Pending = true;
        var generation = ++_generation;
        _timer?.Dispose();
        _timer = clock.CreateTimer(_ => _ = dispatch(() =>
        {
            if (generation == _generation)
            {
                Pending = false;
                apply(Text);
            }
            return Task.CompletedTask;
        }), null, Delay, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The value the URL holds, unless typed text is waiting to be applied.</summary>
    public void FromUrl(string? value)
    {
        if (!Pending)
        {
            Text = value;
        }
    }

    public void Dispose() => _timer?.Dispose();
}
