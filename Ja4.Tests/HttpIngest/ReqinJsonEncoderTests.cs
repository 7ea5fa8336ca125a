using System.Runtime.Versioning;
using System.Text;
using System.Text.Json;
using Ja4.Tests.EndToEnd;

namespace Ja4.Tests.HttpIngest;

/// <summary>
/// The C module's JSON string encoder (native/mod_reqin_log/reqin_json.c), driven through
/// json_check: any byte string gives valid JSON (System.Text.Json is strict, UTF-8 included) that
/// decodes to the expected text, and a cut never splits a character or an escape.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class ReqinJsonEncoderTests
{
    private static string Tool
    {
        get
        {
            _ = ApacheFixture.ModulePath;   // builds native/mod_reqin_log, json_check included
            return Path.Combine(ApacheFixture.NativeDirectory, "json_check");
        }
    }

    /// <summary>One (JSON bytes, cut) per case, or null JSON when nothing fit; read as raw bytes.</summary>
    private static async Task<List<(byte[]? Json, bool Cut)>> EncodeRawAsync(IEnumerable<(int MaxOut, byte[] Bytes)> cases)
    {
        var input = Path.GetTempFileName();
        var output = Path.GetTempFileName();
        try
        {
            await File.WriteAllLinesAsync(input, cases.Select(c => $"{c.MaxOut} {Convert.ToHexString(c.Bytes)}"));
            var (code, text) = await ApacheFixture.RunAsync("/bin/sh", ["-c", $"'{Tool}' < '{input}' > '{output}'"], CancellationToken.None);
            Assert.True(code == 0, text);
            var bytes = await File.ReadAllBytesAsync(output);
            var result = new List<(byte[]?, bool)>();
            var start = 0;
            for (var i = 0; i < bytes.Length; i++)
            {
                if (bytes[i] != (byte)'\n')
                {
                    continue;
                }
                var line = bytes[start..i];
                start = i + 1;
                result.Add(line is [(byte)'-'] ? (null, false) : (line[..^2], line[^1] == (byte)'1'));
            }
            return result;
        }
        finally
        {
            File.Delete(input);
            File.Delete(output);
        }
    }

    private static async Task<List<(string? Json, bool Cut)>> EncodeAsync(IEnumerable<(int MaxOut, byte[] Bytes)> cases) =>
        (await EncodeRawAsync(cases)).Select(r => (r.Json is null ? null : Encoding.UTF8.GetString(r.Json), r.Cut)).ToList();

    /// <summary>What the module promises: UTF-8 kept, every other byte read as Latin-1.</summary>
    private static string Expected(byte[] bytes)
    {
        var sb = new StringBuilder();
        var i = 0;
        while (i < bytes.Length)
        {
            var status = System.Text.Rune.DecodeFromUtf8(bytes.AsSpan(i), out var rune, out var consumed);
            if (status == System.Buffers.OperationStatus.Done)
            {
                sb.Append(rune.ToString());
                i += consumed;
            }
            else
            {
                sb.Append((char)bytes[i]);
                i++;
            }
        }
        return sb.ToString();
    }

    [Fact]
    public async Task Known_values()
    {
        var results = await EncodeAsync([
            (100, "\"a\\\n\u0001"u8.ToArray()),
            (100, [0xC3, 0xA9, 0xFF, 0x7F, 0x09, 0x08, 0x0C, 0x0D]),
            (100, [0xED, 0xA0, 0x80, 0xF4, 0x90, 0x80, 0x80, 0xE0, 0x80, 0xAF]),
            (5, "abcd"u8.ToArray()),
            (4, [0xC3, 0xA9, 0xC3, 0xA9]),
            (1, "a"u8.ToArray()),
        ]);
        Assert.Equal(("\"\\\"a\\\\\\n\\u0001\"", false), results[0]);
        Assert.Equal(("\"é\\u00ff\\u007f\\t\\b\\f\\r\"", false), results[1]);
        // A surrogate, a code point above U+10FFFF and an overlong form are not UTF-8.
        Assert.Equal(("\"\\u00ed\\u00a0\\u0080\\u00f4\\u0090\\u0080\\u0080\\u00e0\\u0080\\u00af\"", false), results[2]);
        Assert.Equal(("\"abc\"", true), results[3]);
        Assert.Equal(("\"é\"", true), results[4]);   // never half a character
        Assert.Equal((null, false), results[5]);
    }

    [Fact]
    public async Task Any_bytes_give_valid_json_that_decodes_to_the_expected_text()
    {
        var random = new Random(7);
        var cases = new List<(int, byte[])>();
        for (var i = 0; i < 3000; i++)
        {
            var bytes = new byte[random.Next(0, 200)];
            random.NextBytes(bytes);
            if (i % 3 == 0)
            {
                // Mostly valid UTF-8 with damage, the interesting case.
                var text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, bytes.Length / 3)
                    .Select(_ => char.ConvertFromUtf32(random.Next(4) switch { 0 => random.Next(0x20, 0x7F), 1 => random.Next(0x80, 0x800), 2 => random.Next(0x800, 0xD800), _ => random.Next(0x10000, 0x110000) }))));
                if (text.Length > 0)
                {
                    text[random.Next(text.Length)] = (byte)random.Next(256);
                }
                bytes = text;
            }
            var max = i % 2 == 0 ? 100_000 : random.Next(2, 60);
            cases.Add((max, bytes));
        }
        var results = await EncodeRawAsync(cases);
        Assert.Equal(cases.Count, results.Count);
        for (var i = 0; i < cases.Count; i++)
        {
            var (max, bytes) = cases[i];
            var (json, cut) = results[i];
            Assert.NotNull(json);
            Assert.True(json.Length <= max, $"case {i}: {json.Length} > {max}");
            // Read back the way the daemon does, byte-exact (invalid UTF-8 would throw).
            var utf8 = json;
            string decoded;
            try
            {
                var reader = new Utf8JsonReader(utf8);
                Assert.True(reader.Read());
                decoded = reader.GetString()!;
                Assert.False(reader.Read());
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                throw new Xunit.Sdk.XunitException($"case {i}: invalid JSON {Convert.ToHexString(json)}: {e.Message}");
            }
            var expected = Expected(bytes);
            if (cut)
            {
                Assert.StartsWith(decoded, expected, StringComparison.Ordinal);
                Assert.True(decoded.Length < expected.Length);
            }
            else
            {
                Assert.Equal(expected, decoded);
            }
        }
    }
}
