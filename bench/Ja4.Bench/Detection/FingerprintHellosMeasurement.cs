using System.Globalization;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Fingerprints;

namespace Ja4.Bench.Detection;

/// <summary>
/// Reads <c>name TAB hex</c> lines (a TLS record holding a ClientHello, as tshark prints
/// <c>tcp.payload</c>) and prints <c>name TAB ja4 TAB ja3 TAB alpn</c>: the fingerprints of the real
/// clients captured by <c>bench/Ja4.Bench/Detection/capture-known-clients.sh</c>.
/// </summary>
public sealed class FingerprintHellosMeasurement : IMeasurement
{
    public string Name => "fingerprint-hellos";
    public string Description => "JA4/JA3 of captured ClientHello records (stdin: name<TAB>hex)";

    public Task<int> RunAsync(string[] args)
    {
        string? line;
        var status = 0;
        while ((line = Console.In.ReadLine()) is not null)
        {
            var parts = line.Split('\t');
            if (parts.Length < 2 || parts[1].Length < 10)
            {
                continue;
            }
            var record = Convert.FromHexString(parts[1].Split(',')[0]);
            // Strip the 5-byte TLS record header (type 22, version, length).
            if (!ClientHelloParser.TryParse(record.AsSpan(5), out var hello, out var error))
            {
                Console.Error.WriteLine($"{parts[0]}: {error}");
                status = 1;
                continue;
            }
            var f = TlsFingerprinter.Compute(hello!, Transport.Tcp);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{parts[0]}\t{f.Ja4}\t{f.Ja3}\t{string.Join(",", f.Alpn)}"));
        }
        return Task.FromResult(status);
    }
}
