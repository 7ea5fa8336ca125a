using System.Text.Json;
using Ja4.Modules.Capture;
using Ja4.Modules.Core.Events;
using Ja4.Tests.TestSupport;

namespace Ja4.Tests.Capture;

/// <summary>
/// The offline capture path over the FoxIO corpus: every ClientHello is found, no other, with the
/// reference's endpoints, and its fingerprints equal the expected values exactly.
/// </summary>
public sealed class CorpusExtractionTests
{
    public static IEnumerable<object[]> Files() => Corpus.FoxioPcaps().Select(f => new object[] { f });

    private static readonly string[] FingerprintKeys = ["ja4", "ja4_r", "ja4_o", "ja4_ro", "ja3", "ja3_full"];

    [Theory]
    [MemberData(nameof(Files))]
    public void Finds_every_reference_hello_with_its_endpoints(string file)
    {
        var expected = Corpus.Expected(file);
        var path = Path.Combine(Corpus.FoxioPcapDir, file);
        using var reader = new CaptureFileReader(path);
        var found = ReferenceOrder.Sort(path, reader.ReadHellos().ToList(), h => (h.Transport, h.Flow));

        Assert.Equal(expected.Select(Endpoints).ToList(),
            found.Select(h => $"{(h.Transport == Transport.Tcp ? "tcp" : "udp")} {h.Flow.Src}:{h.Flow.SrcPort} -> {h.Flow.Dst}:{h.Flow.DstPort}").ToList());
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Fingerprints_equal_the_reference_exactly(string file)
    {
        var expected = Corpus.Expected(file);
        var path = Path.Combine(Corpus.FoxioPcapDir, file);
        using var reader = new CaptureFileReader(path);
        var events = ReferenceOrder.Sort(path, reader.ReadEvents().ToList(),
            e => (e.Transport, new Ja4.Modules.Capture.Decoding.FlowId(
                Ja4.Modules.Capture.Decoding.IpAddr.From(e.Flow.ClientIp), e.Flow.ClientPort,
                Ja4.Modules.Capture.Decoding.IpAddr.From(e.Flow.ServerIp), e.Flow.ServerPort)));
        Assert.Equal(0, reader.Counters.GiveUps(GiveUpReason.ParseError));
        Assert.Equal(expected.Count, events.Count);

        var mismatches = new List<string>();
        for (var i = 0; i < expected.Count; i++)
        {
            var e = expected[i];
            var actual = Values(events[i]);
            if (e.GetProperty("sni").ValueKind == JsonValueKind.Null ? events[i].Sni is not null : e.GetProperty("sni").GetString() != events[i].Sni)
            {
                mismatches.Add($"#{i} sni: expected {e.GetProperty("sni")} got {events[i].Sni}");
            }
            foreach (var key in FingerprintKeys)
            {
                if (e.TryGetProperty(key, out var want) && want.GetString() != actual[key])
                {
                    mismatches.Add($"#{i} {Endpoints(e)} {key}: expected {want.GetString()} got {actual[key]}");
                }
            }
        }
        Assert.Empty(mismatches);
    }

    private static Dictionary<string, string> Values(TlsClientHello h) => new()
    {
        ["ja4"] = h.Ja4, ["ja4_r"] = h.Ja4R, ["ja4_o"] = h.Ja4O, ["ja4_ro"] = h.Ja4Ro, ["ja3"] = h.Ja3, ["ja3_full"] = h.Ja3Full,
    };

    private static string Endpoints(JsonElement e) =>
        $"{e.GetProperty("transport").GetString()} {e.GetProperty("src").GetString()}:{e.GetProperty("src_port").GetInt32()} -> {e.GetProperty("dst").GetString()}:{e.GetProperty("dst_port").GetInt32()}";
}
