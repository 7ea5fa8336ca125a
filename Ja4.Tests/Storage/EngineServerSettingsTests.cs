namespace Ja4.Tests.Storage;

/// <summary>The embedded engine boots with bounded thread pools (its defaults: 128 cleaning threads, 1,000 idle threads kept).</summary>
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
}
