using Microsoft.Extensions.Configuration;

namespace Ja4.Modules.Core.Pipeline;

/// <summary>The daemon's modules, as named under <c>Modules:</c> in the configuration.</summary>
public static class ModuleNames
{
    public const string Capture = "Capture";
    public const string HttpIngest = "HttpIngest";
    public const string Correlation = "Correlation";
    public const string Storage = "Storage";
    public const string Detection = "Detection";
    public const string Dashboard = "Dashboard";

    public static readonly IReadOnlyList<string> All = [Capture, HttpIngest, Correlation, Storage, Detection, Dashboard];

    /// <summary>Configuration section of a module: <c>Modules:&lt;name&gt;</c>.</summary>
    public static string Section(string module) => "Modules:" + module;

    /// <summary>
    /// <c>Modules:&lt;name&gt;:Enabled</c>; a module without the key is disabled, so that a
    /// minimal configuration starts only what it names.
    /// </summary>
    public static bool IsEnabled(IConfiguration configuration, string module) =>
        configuration.GetValue<bool?>(Section(module) + ":Enabled") ?? false;
}
