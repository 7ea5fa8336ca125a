using System.Diagnostics;
using System.Globalization;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Fingerprints;

namespace Ja4.Bench.Capture;

/// <summary>CPU cost of parsing and fingerprinting one hello of each generated shape.</summary>
public sealed class HelloCostMeasurement : IMeasurement
{
    public string Name => "capture-hello-cost";
    public string Description => "µs to parse and fingerprint one ClientHello of each generated shape";

    public Task<int> RunAsync(string[] args)
    {
        var random = new Random(3);
        for (var shape = 0; shape < HelloShapes.Count; shape++)
        {
            var hello = HelloShapes.Build(shape, random, "cost.example.com");
            for (var warm = 0; warm < 2000; warm++)
            {
                ClientHelloParser.TryParse(hello, out var h, out _);
                TlsFingerprinter.Compute(h!, Transport.Tcp);
            }
            const int n = 20000;
            var parse = Stopwatch.StartNew();
            ClientHello? parsed = null;
            for (var i = 0; i < n; i++)
            {
                ClientHelloParser.TryParse(hello, out parsed, out _);
            }
            parse.Stop();
            var compute = Stopwatch.StartNew();
            for (var i = 0; i < n; i++)
            {
                TlsFingerprinter.Compute(parsed!, Transport.Tcp);
            }
            compute.Stop();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"shape {shape} ({hello.Length} bytes): parse {parse.Elapsed.TotalMicroseconds / n:0.0} µs, fingerprints {compute.Elapsed.TotalMicroseconds / n:0.0} µs"));
        }
        return Task.FromResult(0);
    }
}
