using static Ja4.Tests.Storage.StorageTestKit;

namespace Ja4.Tests.Storage;

/// <summary>
/// Server-side parameter values arrive at the engine as the caller wrote them, whatever they hold:
/// the engine reads a parameter in the escaped text form (backslash, tab and line feed are special
/// there), so the executors must escape, and hostile values must neither fail nor change.
/// </summary>
[Collection("chdb")]
public sealed class ParameterValueTests(ChdbFixture fixture)
{
    public static IEnumerable<object[]> Engines() => ChdbFixture.Engines();

    public static IEnumerable<object[]> Cases()
    {
        string[] values =
        [
            @"C:\Windows\system32", "tab\there", "line\nfeed", "cr\rlf", @"\N", @"\\", @"ends with \",
            "' OR 1=1 --", "{x:String}", "nul\0byte", "<script>alert(1)</script>", "Ünïcödé ✓ 漢字", "",
        ];
        foreach (var engine in ChdbFixture.Engines())
        {
            foreach (var v in values)
            {
                yield return [engine[0], v];
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_string_parameter_comes_back_unchanged(string engine, string value)
    {
        await using var store = fixture.Open(engine);
        var hex = await TextAsync(store, "SELECT hex({v:String}), length({v:String})", new Dictionary<string, string> { ["v"] = value });
        var bytes = System.Text.Encoding.UTF8.GetBytes(value);
        Assert.Equal($"{Convert.ToHexString(bytes)}\t{bytes.Length}", hex.Trim('\n'));
    }
}
