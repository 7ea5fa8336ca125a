using System.Reflection;
using BenchmarkDotNet.Running;
using Ja4.Bench;

// ja4-bench micro [BenchmarkDotNet args]   BenchmarkDotNet suites (MemoryDiagnoser)
// ja4-bench <name> [args]                  a whole-program measurement (IMeasurement)
var measurements = typeof(IMeasurement).Assembly.GetTypes()
    .Where(t => typeof(IMeasurement).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
    .Select(t => (IMeasurement)Activator.CreateInstance(t)!)
    .ToDictionary(m => m.Name, StringComparer.Ordinal);

if (args.Length == 0 || args[0] is "--help" or "-h")
{
    Console.WriteLine("usage: ja4-bench micro [BenchmarkDotNet args] | ja4-bench <measurement> [args]");
    foreach (var m in measurements.Values.OrderBy(m => m.Name))
    {
        Console.WriteLine($"  {m.Name,-24} {m.Description}");
    }
    return 0;
}
if (args[0] == "micro")
{
    BenchmarkSwitcher.FromAssembly(Assembly.GetExecutingAssembly()).Run(args[1..]);
    return 0;
}
if (!measurements.TryGetValue(args[0], out var measurement))
{
    Console.Error.WriteLine($"ja4-bench: unknown measurement '{args[0]}'");
    return 2;
}
return await measurement.RunAsync(args[1..]);

namespace Ja4.Bench
{
    /// <summary>
    /// A whole-program measurement run by bench/run.sh. It prints result rows as
    /// <c>ROW|benchmark|metric|ja4 value|peer|peer value|ratio</c> lines on stdout, which run.sh
    /// gathers into one table; other output is for people.
    /// </summary>
    public interface IMeasurement
    {
        string Name { get; }
        string Description { get; }
        Task<int> RunAsync(string[] args);
    }

    public static class Row
    {
        /// <summary>Prints one table row; <paramref name="peerValue"/> and ratio are empty when there is no peer.</summary>
        public static void Print(string benchmark, string metric, double value, string? peer = null, double? peerValue = null)
        {
            var ratio = peerValue is > 0 ? (value / peerValue.Value).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) + "x" : "";
            Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"ROW|{benchmark}|{metric}|{value:0.##}|{peer ?? ""}|{(peerValue is null ? "" : peerValue.Value.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture))}|{ratio}"));
        }
    }
}
