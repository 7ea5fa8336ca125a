using Ja4.Host;
using Ja4.Modules.Core.Memory;
using Ja4.Tests.TestSupport;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Ja4.Tests.Host;

/// <summary>The trim of start-up code a minute after start: when it runs, and which mappings it takes.</summary>
/// <remarks>
/// In the engine's collection: the trim takes every file mapping of the process, so it must not run while
/// <see cref="Ja4.Tests.Storage.EngineCodeTrimTests"/> measures the pages of a file of its own.
/// </remarks>
[Collection("chdb")]
public sealed class StartupCodeTrimTests
{
    private static (StartupCodeTrim Service, ApplicationLifetime Lifetime, FakeTimeProvider Clock) Create(bool enabled)
    {
        var lifetime = new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance);
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-07T03:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var options = Microsoft.Extensions.Options.Options.Create(new OperationsOptions { TrimStartupCode = enabled });
        return (new StartupCodeTrim(lifetime, options, NullLogger<StartupCodeTrim>.Instance, clock), lifetime, clock);
    }

    [Fact]
    public async Task Runs_once_a_minute_after_the_host_has_started_and_not_before()
    {
        var (service, lifetime, clock) = Create(enabled: true);
        await service.StartAsync(CancellationToken.None);
        // Time passing before the host has started does not count.
        clock.Advance(TimeSpan.FromMinutes(5));
        await Task.Delay(50);
        Assert.Null(service.Result);

        lifetime.NotifyStarted();
        var startedAt = clock.GetUtcNow();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (service.Result is null && DateTime.UtcNow < deadline)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(10);
        }
        Assert.NotNull(service.Result);
        Assert.InRange(clock.GetUtcNow() - startedAt, StartupCodeTrim.Delay, StartupCodeTrim.Delay + TimeSpan.FromSeconds(30));
        var (before, after) = service.Result.Value;
        Assert.True(before > 0 && after <= before, $"{before} -> {after}");
        await service.ExecuteTask!;
        await service.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Switched_off_it_never_runs()
    {
        var (service, lifetime, clock) = Create(enabled: false);
        await service.StartAsync(CancellationToken.None);
        lifetime.NotifyStarted();
        clock.Advance(TimeSpan.FromMinutes(10));
        await service.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(service.Result);
    }

    [Fact]
    public async Task Stopping_before_the_minute_ends_it_without_trimming()
    {
        var (service, lifetime, clock) = Create(enabled: true);
        await service.StartAsync(CancellationToken.None);
        lifetime.NotifyStarted();
        clock.Advance(TimeSpan.FromSeconds(30));
        await service.StopAsync(CancellationToken.None);
        try
        {
            await service.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (OperationCanceledException)
        {
            // Stopped before its loop had begun.
        }
        Assert.True(service.ExecuteTask!.IsCompleted);
        Assert.Null(service.Result);
    }

    [Theory]
    [InlineData("/usr/lib/ja4/libchdb.so", false)]
    [InlineData("/work/build/libchdb.so", false)]
    [InlineData("/usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.0/System.Private.CoreLib.dll", true)]
    [InlineData("/usr/lib/ja4/ja4", true)]
    [InlineData("/usr/lib/ja4/libchdb.so.bak", true)]
    public void Takes_every_file_but_the_engines_library(string path, bool taken) =>
        Assert.Equal(taken, StartupCodeTrim.Selects(path));

    [Fact]
    public void Pages_of_a_file_read_once_leave_memory()
    {
        // A 16 MiB file mapped read-only and read through, as start-up reads assemblies it will not run again.
        const int size = 16 << 20;
        using var mapped = new ReadMappedFile("ja4-startup-trim", size);
        Assert.Equal(mapped.ExpectedSum, mapped.ReadSum);
        var before = CodePages.ResidentBytes(p => CodePages.IsFile(p, mapped.Name));
        Assert.True(before >= size * 9L / 10, $"resident before: {before >> 20} MiB");

        StartupCodeTrim.Trim();

        var after = CodePages.ResidentBytes(p => CodePages.IsFile(p, mapped.Name));
        Assert.True(after <= before / 4, $"resident {before >> 20} MiB -> {after >> 20} MiB");
        Assert.Equal(mapped.Data[size / 2], mapped.View.ReadByte(size / 2));
    }
}
