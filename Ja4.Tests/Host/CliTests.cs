using Ja4.Host;

namespace Ja4.Tests.Host;

public sealed class CliTests
{
    private static async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = await Cli.RunAsync(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public async Task General_help_lists_every_command()
    {
        var (code, output, _) = await Run("--help");
        Assert.Equal(0, code);
        foreach (var c in Cli.Commands)
        {
            Assert.Contains(c.Name, output);
        }
    }

    [Fact]
    public async Task Each_command_has_help_with_its_usage_line()
    {
        foreach (var c in Cli.Commands)
        {
            var (code, output, _) = await Run(c.Name, "--help");
            Assert.Equal(0, code);
            Assert.StartsWith($"Usage: ja4 {c.Name}", output);
        }
    }

    [Fact]
    public async Task Unknown_option_is_bad_usage_with_one_line()
    {
        var (code, _, err) = await Run("run", "--frobnicate");
        Assert.Equal(2, code);
        Assert.Equal("ja4 run: unknown option '--frobnicate' (try 'ja4 run --help')", err.TrimEnd());
    }

    [Fact]
    public async Task Unknown_command_is_bad_usage()
    {
        var (code, _, err) = await Run("frobnicate");
        Assert.Equal(2, code);
        Assert.Equal("ja4: unknown command 'frobnicate' (try 'ja4 --help')", err.TrimEnd());
    }

    [Fact]
    public async Task Option_without_value_is_bad_usage()
    {
        var (code, _, err) = await Run("run", "--config");
        Assert.Equal(2, code);
        Assert.Contains("option --config needs a value", err);
    }

    [Fact]
    public async Task Missing_config_file_fails_with_one_line()
    {
        var (code, _, err) = await Run("run", "--config", "/nonexistent/ja4.json");
        Assert.Equal(1, code);
        Assert.Equal("ja4 run: configuration file not found: /nonexistent/ja4.json", err.TrimEnd());
    }

    [Fact]
    public async Task Config_file_with_broken_json_fails_with_one_line()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ja4-bad-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, "{ \"Modules\": { ");
        try
        {
            var (code, _, err) = await Run("run", "--config", path);
            Assert.Equal(1, code);
            Assert.Single(err.TrimEnd().Split('\n'));
            Assert.Contains("is not valid JSON", err);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Argument_reader_takes_equals_and_separate_values_and_positionals()
    {
        var r = new Ja4.Host.Commands.ArgReader(["a.pcap", "--format=csv", "--", "--b.pcap"], ["--format"], []);
        Assert.Equal("csv", r.Value("--format"));
        Assert.Equal(new[] { "a.pcap", "--b.pcap" }, r.Positionals);
    }
}
