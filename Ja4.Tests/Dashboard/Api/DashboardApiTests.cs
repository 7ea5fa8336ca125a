using System.Net;
using System.Text.Json;
using Ja4.Tests.Storage;
using static Ja4.Tests.Dashboard.Api.DashboardSeed;

namespace Ja4.Tests.Dashboard.Api;

/// <summary>
/// Every REST endpoint against the in-process daemon on chDB with the hand-made rows of
/// <see cref="DashboardSeed"/>; expected values are counted from those rows by hand.
/// </summary>
[Collection("chdb")]
[Trait("Category", "EndToEnd")]
public sealed class DashboardApiTests(ChdbFixture chdb)
{
    private static async Task<JsonElement> GetJson(HttpClient http, string url)
    {
        var response = await http.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private async Task<(DashboardTestDaemon Daemon, HttpClient Http)> StartSeededAsync()
    {
        var daemon = await DashboardTestDaemon.StartAsync(chdb);
        await SeedAsync(daemon);
        return (daemon, new HttpClient { BaseAddress = new Uri(daemon.BaseUrl) });
    }

    private static string[] Column(JsonElement items, string name) =>
        items.EnumerateArray().Select(i => i.GetProperty(name).ToString()).ToArray();

    [Fact]
    public async Task Read_endpoints_answer_what_the_rows_hold()
    {
        var (daemon, http) = await StartSeededAsync();
        await using var _ = daemon;
        using var __ = http;

        var stats = (await GetJson(http, $"/api/stats?{Window}")).GetProperty("data");
        Assert.Equal(7, stats.GetProperty("requests").GetInt64());
        Assert.Equal(4, stats.GetProperty("uniqueIps").GetInt64());
        Assert.Equal(2, stats.GetProperty("uniqueJa4s").GetInt64());
        Assert.Equal(2, stats.GetProperty("uniqueHosts").GetInt64());

        var topJa4 = (await GetJson(http, $"/api/top?dimension=ja4&{Window}")).GetProperty("data");
        Assert.Equal([Ja4A, Ja4B], Column(topJa4, "key"));
        Assert.Equal(["5", "2"], Column(topJa4, "requests"));
        var topIp = (await GetJson(http, $"/api/top?dimension=ip&limit=1&{Window}")).GetProperty("data");
        Assert.Equal(["198.51.100.10"], Column(topIp, "key"));
        var topPath = (await GetJson(http, $"/api/top?dimension=path&limit=2&{Window}")).GetProperty("data");
        Assert.Equal(["/cart", "/login"], Column(topPath, "key"));

        // 4 hours: 5-minute buckets; requests at +10..12, +20..21, +30, +40 minutes.
        var series = (await GetJson(http, $"/api/timeseries?metric=requests&{Window}")).GetProperty("data");
        Assert.Equal([Base.AddMinutes(10), Base.AddMinutes(20), Base.AddMinutes(30), Base.AddMinutes(40)],
            series.EnumerateArray().Select(p => p.GetProperty("time").GetDateTimeOffset()).ToArray());
        Assert.Equal(["3", "2", "1", "1"], Column(series, "value"));
        var anomalySeries = (await GetJson(http, $"/api/timeseries?metric=anomalies&{Window}")).GetProperty("data");
        Assert.Equal(["3", "1"], Column(anomalySeries, "value"));

        // Three clients; newest last-seen first, ties by address (IPv4-mapped sorts before 2001:db8::).
        var anomalies = (await GetJson(http, $"/api/anomalies?{Window}")).GetProperty("data");
        Assert.Equal(3, anomalies.GetProperty("total").GetInt64());
        var items = anomalies.GetProperty("items");
        Assert.Equal(["198.51.100.10", "198.51.100.11", "2001:db8::7"], Column(items, "clientIp"));
        var first = items[0];
        Assert.Equal("medium", first.GetProperty("threatLevel").GetString());
        Assert.Equal(0.81, first.GetProperty("score").GetDouble(), 3);
        Assert.Equal(0.9, first.GetProperty("risk").GetDouble(), 3);
        Assert.Equal(2, first.GetProperty("detections").GetInt64());
        Assert.Equal(3, first.GetProperty("requests").GetInt64());
        Assert.Equal(Base, first.GetProperty("firstSeen").GetDateTimeOffset());
        Assert.Equal(Base.AddHours(2), first.GetProperty("lastSeen").GetDateTimeOffset());
        Assert.Equal("c-1", first.GetProperty("campaignId").GetString());

        async Task<string[]> Ips(string query) =>
            Column((await GetJson(http, $"/api/anomalies?{query}&{Window}")).GetProperty("data").GetProperty("items"), "clientIp");
        Assert.Equal(["198.51.100.11"], await Ips("level=critical"));
        Assert.Equal(["198.51.100.10"], await Ips("level=medium"));
        Assert.Equal(["198.51.100.11", "2001:db8::7"], await Ips("level=critical,LOW"));
        Assert.Equal(["198.51.100.10", "198.51.100.11"], await Ips("ip=198.51.100.0/24"));
        Assert.Equal(["2001:db8::7"], await Ips("ip=2001:db8::/32"));
        Assert.Equal(["2001:db8::7"], await Ips("ja4=t13d1715"));
        Assert.Equal(["198.51.100.10", "198.51.100.11"], await Ips("bot=PYTHON"));
        Assert.Equal(["2001:db8::7"], await Ips("host=api.example"));
        Assert.Equal(["198.51.100.11", "198.51.100.10", "2001:db8::7"], await Ips("sort=score&order=desc"));
        Assert.Equal(["2001:db8::7", "198.51.100.10", "198.51.100.11"], await Ips("sort=level&order=asc"));
        var page2 = (await GetJson(http, $"/api/anomalies?sort=score&pageSize=1&page=2&{Window}")).GetProperty("data");
        Assert.Equal(3, page2.GetProperty("total").GetInt64());
        Assert.Equal(["198.51.100.10"], Column(page2.GetProperty("items"), "clientIp"));

        var ip = (await GetJson(http, $"/api/ip?addr=198.51.100.10&{Window}")).GetProperty("data");
        Assert.Equal("ip", ip.GetProperty("kind").GetString());
        Assert.Equal(["/checkout", "/cart", "/login"], Column(ip.GetProperty("ip").GetProperty("recentRequests"), "path"));
        Assert.Equal(["3"], Column(ip.GetProperty("ip").GetProperty("hours"), "requests"));
        var cidr = (await GetJson(http, $"/api/ip?addr=198.51.100.0/24&{Window}")).GetProperty("data");
        Assert.Equal("cidr", cidr.GetProperty("kind").GetString());
        Assert.Equal(["198.51.100.10", "198.51.100.11"], Column(cidr.GetProperty("addresses"), "value"));
        Assert.Equal(["3", "2"], Column(cidr.GetProperty("addresses"), "requests"));

        var ja4 = (await GetJson(http, $"/api/ja4?ja4={Ja4A}&{Window}")).GetProperty("data");
        Assert.Equal(5, ja4.GetProperty("requests").GetInt64());
        Assert.Equal(2, ja4.GetProperty("uniqueIps").GetInt64());
        Assert.Equal(["198.51.100.10", "198.51.100.11"], Column(ja4.GetProperty("topIps"), "key"));

        // The latest row of c-1 wins: two members, critical.
        var campaigns = (await GetJson(http, $"/api/campaigns?{Window}")).GetProperty("data");
        Assert.Equal(["c-1"], Column(campaigns, "id"));
        Assert.Equal("critical", campaigns[0].GetProperty("threatLevel").GetString());
        Assert.Equal(2, campaigns[0].GetProperty("size").GetInt64());
        var campaign = (await GetJson(http, $"/api/campaigns/c-1?{Window}")).GetProperty("data");
        Assert.Equal(["198.51.100.10", "198.51.100.11"], Column(campaign.GetProperty("members"), "clientIp"));
        Assert.Equal([Ja4A], Column(campaign.GetProperty("sharedFingerprints"), "value"));
        Assert.Equal(["2"], Column(campaign.GetProperty("sharedFingerprints"), "members"));
        var sequences = campaign.GetProperty("pathSequences").EnumerateArray()
            .Select(s => string.Join(" ", s.GetProperty("paths").EnumerateArray().Select(p => p.GetString()))).ToArray();
        Assert.Equal(["/login /cart", "/login /cart /checkout"], sequences);
        Assert.Equal(["3", "2"], Column(campaign.GetProperty("timeline"), "value"));
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/api/campaigns/c-404?{Window}")).StatusCode);

        async Task<JsonElement> Search(string q) => (await GetJson(http, $"/api/search?q={Uri.EscapeDataString(q)}&{Window}")).GetProperty("data");
        var s1 = await Search("198.51.100.10");
        Assert.Equal("Ip", s1.GetProperty("kind").GetString());
        Assert.Equal(["198.51.100.10"], Column(s1.GetProperty("groups")[0].GetProperty("hits"), "value"));
        Assert.StartsWith("/ip?addr=198.51.100.10&from=", s1.GetProperty("groups")[0].GetProperty("hits")[0].GetProperty("link").GetString());
        Assert.Equal([Ja4A], Column(s1.GetProperty("groups")[1].GetProperty("hits"), "value"));
        Assert.Equal("Cidr", (await Search("198.51.100.0/24")).GetProperty("kind").GetString());
        var s2 = await Search(Ja4A);
        Assert.Equal("Ja4", s2.GetProperty("kind").GetString());
        Assert.Equal(["5"], Column(s2.GetProperty("groups")[0].GetProperty("hits"), "requests"));
        var s3 = await Search("t13d");
        Assert.Equal("Ja4Prefix", s3.GetProperty("kind").GetString());
        Assert.Equal([Ja4A, Ja4B], Column(s3.GetProperty("groups")[0].GetProperty("hits"), "value"));
        var s4 = await Search(Ja3A);
        Assert.Equal("Ja3", s4.GetProperty("kind").GetString());
        Assert.Equal([Ja4A], Column(s4.GetProperty("groups")[0].GetProperty("hits"), "value"));
        var s5 = await Search("python");
        Assert.Equal("Text", s5.GetProperty("kind").GetString());
        var ua = s5.GetProperty("groups").EnumerateArray().Single(g => g.GetProperty("kind").GetString() == "user_agent").GetProperty("hits");
        Assert.Equal(["python-requests/2.31"], Column(ua, "value"));
        Assert.Equal(["5"], Column(ua, "requests"));
        Assert.Equal(["2"], Column(ua, "uniqueIps"));
        var hosts = (await Search("EXAMPLE")).GetProperty("groups").EnumerateArray().Single(g => g.GetProperty("kind").GetString() == "host");
        Assert.Equal(["shop.example", "api.example"], Column(hosts.GetProperty("hits"), "value"));
        var paths = (await Search("cart")).GetProperty("groups").EnumerateArray().Single(g => g.GetProperty("kind").GetString() == "path");
        Assert.Equal(["/cart"], Column(paths.GetProperty("hits"), "value"));
        Assert.Equal(["2"], Column(paths.GetProperty("hits"), "uniqueIps"));
    }

    [Fact]
    public async Task Exports_stream_neutralised_csv_json_lines_and_block_lists_and_the_openapi_document_lists_every_endpoint()
    {
        var (daemon, http) = await StartSeededAsync();
        await using var _ = daemon;
        using var __ = http;

        var csvResponse = await http.GetAsync($"/api/export/anomalies?format=csv&sort=score&{Window}");
        Assert.Equal("text/csv", csvResponse.Content.Headers.ContentType!.MediaType);
        Assert.Contains("attachment", csvResponse.Content.Headers.ContentDisposition!.ToString());
        var lines = (await csvResponse.Content.ReadAsStringAsync()).Split("\r\n");
        Assert.Equal("threat_level,score,risk,client_ip,ja4,bot_name,host,first_seen,last_seen,detections,requests,explanation,campaign_id", lines[0]);
        Assert.Equal(5, lines.Length); // header, three rows, and the empty string after the last CRLF
        Assert.Equal("", lines[4]);
        Assert.StartsWith("critical,0.95,0.97,198.51.100.11," + Ja4A + ",python-requests,shop.example,", lines[1]);
        Assert.EndsWith(",1,2,'=SUM(A1),c-1", lines[1]);
        Assert.EndsWith(",1,1,'-1 odd,", lines[3]);
        Assert.EndsWith(",2,3,Still there.,c-1", lines[2]);

        var jsonl = await http.GetStringAsync($"/api/export/search?q=python&format=jsonl&{Window}");
        var rows = jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(5, rows.Count);
        Assert.All(rows, r => Assert.Equal("python-requests/2.31", r.GetProperty("user_agent").GetString()));
        Assert.Equal(["/cart", "/login", "/checkout", "/cart", "/login"], rows.Select(r => r.GetProperty("path").GetString()!).ToArray());

        var searchCsv = (await http.GetStringAsync($"/api/export/search?q=2001:db8::7&format=csv&{Window}")).Split("\r\n");
        Assert.Equal(3, searchCsv.Length);
        Assert.Contains(",/=cmd,", searchCsv[1]);
        Assert.Contains(",'=HYPERLINK('x'),", searchCsv[1]);

        Assert.Equal("198.51.100.10\n198.51.100.11\n", await http.GetStringAsync($"/api/export/campaigns/c-1?format=plain&{Window}"));
        var apache = await http.GetStringAsync($"/api/export/campaigns/c-1?format=apache&{Window}");
        Assert.Equal("# ja4 campaign c-1: 2 addresses\n<RequireAll>\n    Require all granted\n    Require not ip 198.51.100.10\n" +
                     "    Require not ip 198.51.100.11\n</RequireAll>\n", apache);
        var nft = await http.GetStringAsync($"/api/export/campaigns/c-1?format=nftables&{Window}");
        Assert.Contains("\tset campaign_v4 {\n\t\ttype ipv4_addr\n\t\telements = { 198.51.100.10, 198.51.100.11 }\n\t}\n", nft);
        Assert.Contains("\tset campaign_v6 {\n\t\ttype ipv6_addr\n\t}\n", nft);
        Assert.Equal("client_ip,ja4,host\r\n198.51.100.10," + Ja4A + ",shop.example\r\n198.51.100.11," + Ja4A + ",shop.example\r\n",
            await http.GetStringAsync($"/api/export/campaigns/c-1?format=csv&{Window}"));
        Assert.Equal(2, (await http.GetStringAsync($"/api/export/anomalies?format=jsonl&limit=2&{Window}")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        var openapi = await GetJson(http, "/openapi/v1.json");
        var documented = openapi.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
        string[] endpoints =
        [
            "/api/stats", "/api/top", "/api/timeseries", "/api/anomalies", "/api/ip", "/api/ja4", "/api/campaigns", "/api/campaigns/{id}",
            "/api/search", "/api/export/anomalies", "/api/export/search", "/api/export/campaigns/{id}",
        ];
        Assert.All(endpoints, e => Assert.Contains(e, documented));
        var anomalyParameters = openapi.GetProperty("paths").GetProperty("/api/anomalies").GetProperty("get").GetProperty("parameters")
            .EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?> { "range", "from", "to", "level", "ip", "ja4", "bot", "host", "sort", "order", "page", "pageSize" }, anomalyParameters);
    }

    public static TheoryData<string, string> BadParameters() => new()
    {
        { "/api/stats?range=2d", "range" },
        { "/api/stats?from=2026-11-25T10:00:00Z", "from" },
        { "/api/stats?from=yesterday&to=2026-11-25T10:00:00Z", "from" },
        { "/api/stats?from=2026-11-25T10:00:00Z&to=2026-11-24T10:00:00Z", "to" },
        { "/api/top?dimension=country", "dimension" },
        { "/api/top?limit=0", "limit" },
        { "/api/top?limit=ten", "limit" },
        { "/api/timeseries?metric=bytes", "metric" },
        { "/api/anomalies?level=severe", "level" },
        { "/api/anomalies?ip=999.1.1.1", "ip" },
        { "/api/anomalies?sort=drop", "sort" },
        { "/api/anomalies?order=sideways", "order" },
        { "/api/anomalies?page=-1", "page" },
        { "/api/anomalies?pageSize=100000", "pageSize" },
        { "/api/anomalies?host=a%00b", "host" },
        { "/api/ip", "addr" },
        { "/api/ip?addr=198.51.100.0/33", "addr" },
        { "/api/ja4", "ja4" },
        { "/api/search", "q" },
        { "/api/search?q=%00", "q" },
        { "/api/search?q=" + "x%0Ay", "q" },
        { "/api/export/anomalies?format=xlsx", "format" },
        { "/api/export/search?q=python&format=pdf", "format" },
        { "/api/export/campaigns/c-1?format=iptables", "format" },
    };

    [Fact]
    public async Task Bad_parameters_get_a_400_naming_them_and_injection_attempts_change_nothing()
    {
        var (daemon, http) = await StartSeededAsync();
        await using var _ = daemon;
        using var __ = http;
        foreach (var row in BadParameters())
        {
            var (url, parameter) = ((string)row[0], (string)row[1]);
            var response = await http.GetAsync(url);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{url}: {(int)response.StatusCode} {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
            var problem = JsonDocument.Parse(body).RootElement;
            Assert.Equal(parameter, problem.GetProperty("parameter").GetString());
            Assert.Contains($"'{parameter}'", problem.GetProperty("detail").GetString());
        }

        // Each is either refused with a 400 naming the parameter or searched for as text and not found.
        string[] hostile = ["' OR 1=1 --", "{x:String}", "\\", "\\'; DROP TABLE http_logs; --", "%' OR '%'='", "') UNION SELECT 1 --", "a\0b"];
        foreach (var h in hostile)
        {
            var e = Uri.EscapeDataString(h);
            async Task<JsonElement?> Answer(string url, string parameter)
            {
                var response = await http.GetAsync(url);
                var body = await response.Content.ReadAsStringAsync();
                if (response.StatusCode == HttpStatusCode.BadRequest)
                {
                    Assert.Equal(parameter, JsonDocument.Parse(body).RootElement.GetProperty("parameter").GetString());
                    return null;
                }
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {body}");
                return JsonDocument.Parse(body).RootElement.GetProperty("data").Clone();
            }
            if (await Answer($"/api/search?q={e}&{Window}", "q") is { } search)
            {
                Assert.All(search.GetProperty("groups").EnumerateArray(), g => Assert.Equal(0, g.GetProperty("hits").GetArrayLength()));
            }
            foreach (var filter in new[] { "ja4", "bot", "host" })
            {
                if (await Answer($"/api/anomalies?{filter}={e}&{Window}", filter) is { } page)
                {
                    Assert.Equal(0, page.GetProperty("total").GetInt64());
                }
            }
            if (await Answer($"/api/ja4?ja4={e}&{Window}", "ja4") is { } ja4)
            {
                Assert.Equal(0, ja4.GetProperty("requests").GetInt64());
            }
            var campaign = await http.GetAsync($"/api/campaigns/{e}?{Window}");
            Assert.True(campaign.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest, $"campaign {h}: {campaign.StatusCode}");
            var export = await http.GetAsync($"/api/export/search?q={e}&format=csv&{Window}");
            Assert.True(export.StatusCode is HttpStatusCode.OK or HttpStatusCode.BadRequest, $"export {h}: {export.StatusCode}");
            if (export.StatusCode == HttpStatusCode.OK)
            {
                Assert.Single((await export.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries));
            }
        }

        // Nothing was altered.
        var stats = (await GetJson(http, $"/api/stats?{Window}")).GetProperty("data");
        Assert.Equal(7, stats.GetProperty("requests").GetInt64());
        Assert.Equal(3, (await GetJson(http, $"/api/anomalies?{Window}")).GetProperty("data").GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task Without_storage_the_api_answers_503_with_the_reason_and_pages_show_it()
    {
        await using var daemon = await DashboardTestDaemon.StartAsync(null);
        using var http = new HttpClient { BaseAddress = new Uri(daemon.BaseUrl) };
        var response = await http.GetAsync("/api/anomalies");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("storage module is disabled", await response.Content.ReadAsStringAsync());
        var page = await http.GetAsync("/anomalies");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("storage module is disabled", await page.Content.ReadAsStringAsync());
    }
}
