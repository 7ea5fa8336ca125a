namespace Ja4.Tests;

/// <summary>Runs a command with Console.Out/Error redirected. Tests using it share one collection.</summary>
public static class ConsoleCapture
{
    private static readonly SemaphoreSlim Gate = new(1, 1);

    public static async Task<(int Code, string Out, string Err)> RunAsync(Func<Task<int>> run)
    {
        await Gate.WaitAsync();
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (o, e) = (new StringWriter(), new StringWriter());
        try
        {
            Console.SetOut(o);
            Console.SetError(e);
            var code = await run();
            return (code, o.ToString(), e.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
            Gate.Release();
        }
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection
{
    public const string Name = "console";
}
