using Ja4.Modules.Storage.Engines;

namespace Ja4.Modules.Dashboard.Components.Shared;

/// <summary>Which exceptions mean "the store could not answer" (shown on the page) rather than a bug.</summary>
public static class StoreFailure
{
    /// <summary>Engine errors, an unreachable server, a disabled storage module, a timed-out query.</summary>
    public static bool Is(Exception e) =>
        e is StoreException or InvalidOperationException or HttpRequestException or TimeoutException or System.Text.Json.JsonException;
}
