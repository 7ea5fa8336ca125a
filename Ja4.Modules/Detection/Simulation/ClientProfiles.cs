using Ja4.Modules.Detection.Rules;

namespace Ja4.Modules.Detection.Simulation;

/// <summary>A real TLS client whose ClientHello the simulator replays (JA4/JA3 as fingerprinted from a capture).</summary>
/// <param name="Name">Client name.</param>
/// <param name="Family">TLS stack family.</param>
/// <param name="Ja4">JA4 of the client's ClientHello.</param>
/// <param name="Ja3">JA3 of the same hello.</param>
/// <param name="Alpn">ALPN offered, in order.</param>
/// <param name="UserAgent">The User-Agent the client sends by default (empty: none).</param>
public sealed record ClientProfile(string Name, ClientFamily Family, string Ja4, string Ja3, IReadOnlyList<string> Alpn,
    string UserAgent)
{
    public bool OffersH2 => Alpn.Contains("h2");
}

/// <summary>
/// The clients the simulator uses. Browser fingerprints come from the FoxIO corpus pcaps
/// (<c>/work/shared/corpus/foxio</c>) and from Debian's chromium captured here; library fingerprints
/// were captured here with tcpdump from Debian's curl, wget, python3, Node.js, OpenJDK and .NET
/// (<c>bench/Ja4.Bench/Detection/capture-known-clients.sh</c>); the same values are in
/// <c>data/known-fingerprints.csv</c>.
/// </summary>
public static class ClientProfiles
{
    private static readonly string[] H2 = ["h2", "http/1.1"];

    public static readonly ClientProfile Chrome = new("Chrome", ClientFamily.Chromium,
        "t13d1516h2_8daaf6152771_e5627efa2ab1", "8883b2acda8ceb1a4f416c16d9b6c42f", H2, "");

    // Chromium shuffles its extension order on every connection: JA4 (sorted) is stable, JA3 is
    // not; this is the JA3 of one captured connection.
    public static readonly ClientProfile Chromium = new("Chromium", ClientFamily.Chromium,
        "t13d1517h2_8daaf6152771_cb7bf5808d99", "31f9b7bfc274e002bfe63d502ca5ed51", H2, "");

    public static readonly ClientProfile Firefox = new("Firefox", ClientFamily.Firefox,
        "t13d1715h2_5b57614c22b0_3d5424432f57", "579ccef312d18482fc42e2b822ca2430", H2, "");

    public static readonly ClientProfile Curl = new("curl", ClientFamily.Library,
        "t13d3112h2_e8f1e7e78f70_b26ce05bbdd6", "0149f47eabf9a20d0893e2a44e5a6323", H2, "curl/7.88.1");

    public static readonly ClientProfile Wget = new("Wget", ClientFamily.Library,
        "t13d291300_723694b0fccc_899037bd0b8c", "bb4f9fef542ff6b4b29aa653bf0c1d31", [], "Wget/1.21.3");

    public static readonly ClientProfile Python = new("Python urllib", ClientFamily.Library,
        "t13d311100_e8f1e7e78f70_d41ae481755e", "d39e1be3241d516b1f714bd47c2bc968", [], "Python-urllib/3.11");

    public static readonly ClientProfile Node = new("Node.js", ClientFamily.Library,
        "t13d591000_a33745022dd6_1f22a2ca17c4", "0cce74b0d9b7f8528fb2181588d23793", [], "axios/1.6.7");

    public static readonly ClientProfile Java = new("Java HttpClient", ClientFamily.Library,
        "t13d3713h2_db35923f8641_7c76daad20ec", "eea0a26d87c4721f5818bb176368f238", H2, "Java-http-client/17.0.15");

    public static readonly ClientProfile DotNet = new(".NET HttpClient", ClientFamily.Library,
        "t13d121100_a538d02d76d5_f6eeaf393d2e", "02d7359ba777278df8619c1fd64f71e1", [], "");

    public static readonly IReadOnlyList<ClientProfile> Browsers = [Chrome, Chromium, Firefox];

    public static readonly IReadOnlyList<ClientProfile> Libraries = [Curl, Wget, Python, Node, Java, DotNet];
}
