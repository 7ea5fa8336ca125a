namespace Ja4.Tests.Storage;

/// <summary>
/// The embedded engine boots with bounded thread pools (its defaults: 128 cleaning threads, 1,000 idle threads kept)
/// and without its expression JIT (its default compiles an expression met three times), running at most two merges at a time.
/// </summary>
[Collection("chdb")]
public sealed class EngineServerSettingsTests(ChdbFixture fixture)
{
    [Fact]
    public async Task The_parts_cleaning_pool_and_the_idle_threads_kept_are_bounded()
    {
        var text = System.Text.Encoding.UTF8.GetString(await fixture.Chdb.QueryAsync(
            "SELECT name, value FROM system.server_settings WHERE name IN ('max_parts_cleaning_thread_pool_size', 'max_thread_pool_free_size') ORDER BY name"));
        Assert.Equal("max_parts_cleaning_thread_pool_size\t4\nmax_thread_pool_free_size\t8", text.Trim());
    }

    [Fact]
    public async Task At_most_two_background_merges_run_at_a_time()
    {
        // The engine's defaults here: a pool of 2 and a ratio of 2, four merges at once.
        var text = System.Text.Encoding.UTF8.GetString(await fixture.Chdb.QueryAsync(
            "SELECT name, value FROM system.server_settings WHERE name IN ('background_pool_size', 'background_merges_mutations_concurrency_ratio') ORDER BY name"));
        Assert.Equal("background_merges_mutations_concurrency_ratio\t1\nbackground_pool_size\t2", text.Trim());
    }

    [Fact]
    public async Task Expressions_met_many_times_are_not_compiled()
    {
        const string compiled = "SELECT sum(value) FROM system.events WHERE event = 'CompileFunction'";
        var before = await Count(compiled);
        // Without the settings the engine compiles this expression on its third run (min_count_to_compile_expression = 3)
        // and this aggregate likewise (min_count_to_compile_aggregate_expression = 3).
        for (var i = 0; i < 6; i++)
        {
            await fixture.Chdb.QueryAsync(
                "SELECT number % 7 AS k, sum(number * 3 + 1), countIf(number > 50) FROM numbers(100000) GROUP BY k ORDER BY k");
        }
        Assert.Equal(before, await Count(compiled));
        var settings = System.Text.Encoding.UTF8.GetString(await fixture.Chdb.QueryAsync(
            "SELECT name, value FROM system.settings WHERE name IN ('compile_expressions', 'compile_aggregate_expressions', 'compile_sort_description') ORDER BY name"));
        Assert.Equal("compile_aggregate_expressions\t0\ncompile_expressions\t0\ncompile_sort_description\t0", settings.Trim());
    }

    private async Task<long> Count(string sql) =>
        long.TryParse(System.Text.Encoding.UTF8.GetString(await fixture.Chdb.QueryAsync(sql)).Trim(), out var n) ? n : 0;
}
