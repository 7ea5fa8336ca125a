using Ja4.Modules.Capture;
using Ja4.Modules.Core.Events;

namespace Ja4.Tests.Capture;

/// <summary>
/// The offline path finds exactly the ClientHellos of the reference corpus, with the reference's
/// endpoints. (Fingerprint values are checked by the fingerprint corpus test.)
/// </summary>
public sealed class CorpusExtractionTests
{
    [Theory]
    [MemberData(nameof(CorpusPaths.PcapNamesData), MemberType = typeof(CorpusPaths))]
    public void Finds_every_reference_hello_with_its_endpoints(string file)
    {
        var expected = CorpusPaths.Expected(file);
        using var reader = new CaptureFileReader(CorpusPaths.Pcap(file));
        var found = reader.ReadHellos().ToList();

        var ordered = ReferenceOrder.Sort(CorpusPaths.Pcap(file), found, h => (h.Transport, h.Flow));
        var actual = ordered.Select(Describe).ToList();
        var wanted = expected.Select(e => $"{e.GetProperty("transport").GetString()} {e.GetProperty("src").GetString()}:{e.GetProperty("src_port").GetInt32()} -> {e.GetProperty("dst").GetString()}:{e.GetProperty("dst_port").GetInt32()}").ToList();
        Assert.Equal(wanted, actual);
    }

    private static string Describe(CapturedHello h) =>
        $"{(h.Transport == Transport.Tcp ? "tcp" : "udp")} {h.Flow.Src}:{h.Flow.SrcPort} -> {h.Flow.Dst}:{h.Flow.DstPort}";
}
