using System.Collections;
using System.Reflection;
using Ja4.Modules.Capture;
using Ja4.Modules.Core.Filtering;
using Ja4.Modules.Core.Pipeline;
using Ja4.Modules.Correlation;
using Ja4.Modules.Dashboard;
using Ja4.Modules.Detection;
using Ja4.Modules.HttpIngest;
using Ja4.Modules.Storage;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Options;

namespace Ja4.Host;

/// <summary>
/// Start-up check that every key given to the daemon names one of its settings: a misspelt key
/// (<c>Modules:Capture:SnapLenght</c>) would otherwise be ignored by the binder and leave the default
/// in force without a word. Keys from the configuration file and from in-memory overrides are all
/// checked; <c>JA4_</c> environment variables only under the daemon's own sections (<c>Modules</c>,
/// <c>Pipeline</c>, ...), since other programs' variables share the prefix (<c>JA4_CHDB_LIBRARY</c>).
/// The known keys are the options classes' public properties (dictionaries take any key, lists any
/// index), so the check follows the code as settings are added.
/// </summary>
public static class ConfigurationKeys
{
    /// <summary>The whole configuration tree as the daemon reads it.</summary>
    internal sealed class Root
    {
        public ModulesSection Modules { get; set; } = new();
        public PipelineOptions Pipeline { get; set; } = new();
        public IpFilterOptions IpFilter { get; set; } = new();
        public DataProtectionKeysOptions DataProtection { get; set; } = new();
        public OperationsOptions Operations { get; set; } = new();
        public LoggingSection Logging { get; set; } = new();
    }

    internal sealed class ModulesSection
    {
        public CaptureOptions Capture { get; set; } = new();
        public HttpIngestOptions HttpIngest { get; set; } = new();
        public CorrelationOptions Correlation { get; set; } = new();
        public StorageOptions Storage { get; set; } = new();
        public DetectionOptions Detection { get; set; } = new();
        public DashboardOptions Dashboard { get; set; } = new();
    }

    internal sealed class LoggingSection
    {
        public ConsoleSection Console { get; set; } = new();
        public FileSection File { get; set; } = new();

        /// <summary>Serilog's own configuration (sinks, enrichers, levels per namespace): not checked here.</summary>
        public IConfigurationSection? Serilog { get; set; }
    }

    internal sealed class ConsoleSection
    {
        public string Format { get; set; } = "text";
    }

    internal sealed class FileSection
    {
        public string Path { get; set; } = "";
        public int RetainedFiles { get; set; } = 14;
    }

    /// <summary>
    /// One line per name that is no setting (the key up to that name), with the closest known name when there is one.
    /// </summary>
    public static IReadOnlyList<string> Unknown(IConfigurationRoot configuration)
    {
        var problems = new List<string>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var provider in configuration.Providers)
        {
            var fromEnvironment = provider is EnvironmentVariablesConfigurationProvider;
            foreach (var key in Leaves(provider, null))
            {
                var segments = key.Split(':');
                if (fromEnvironment && FindProperty(typeof(Root), segments[0]) is null)
                {
                    continue;
                }
                // One line per wrong name, however many keys sit below it.
                if (Check(typeof(Root), segments, 0) is { } problem && seen.Add(problem))
                {
                    problems.Add(problem);
                }
            }
        }
        return problems;
    }

    private static IEnumerable<string> Leaves(IConfigurationProvider provider, string? parent)
    {
        foreach (var child in provider.GetChildKeys([], parent).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            var path = parent is null ? child : parent + ConfigurationPath.KeyDelimiter + child;
            var any = false;
            foreach (var leaf in Leaves(provider, path))
            {
                any = true;
                yield return leaf;
            }
            if (!any)
            {
                yield return path;
            }
        }
    }

    /// <summary>Null when <paramref name="segments"/> from <paramref name="index"/> on name a setting of <paramref name="type"/>.</summary>
    private static string? Check(Type type, string[] segments, int index)
    {
        while (index < segments.Length)
        {
            var segment = segments[index];
            if (type == typeof(IConfigurationSection))
            {
                return null;
            }
            if (ElementOf(type) is { } element)
            {
                if (IsDictionary(type) || int.TryParse(segment, System.Globalization.NumberStyles.None, null, out _))
                {
                    type = element;
                    index++;
                    continue;
                }
                return $"{Path(segments, index + 1)}: not a setting ({Path(segments, index)} is a list: its entries are numbered from 0)";
            }
            if (IsScalar(type))
            {
                return $"{Path(segments, index + 1)}: not a setting ({Path(segments, index)} takes a single value)";
            }
            if (FindProperty(type, segment) is { } property)
            {
                type = property.PropertyType;
                index++;
                continue;
            }
            var known = Settable(type).Select(p => p.Name).ToArray();
            var closest = Closest(segment, known);
            return closest is null
                ? $"{Path(segments, index + 1)}: not a setting (known under {(index == 0 ? "the root" : Path(segments, index))}: {string.Join(", ", known)})"
                : $"{Path(segments, index + 1)}: not a setting (did you mean {(index == 0 ? "" : Path(segments, index) + ":")}{closest}?)";
        }
        return null;
    }

    /// <summary>The first <paramref name="count"/> segments as a key; a segment longer than 64 characters is cut (keys come from files and the environment).</summary>
    private static string Path(string[] segments, int count) =>
        string.Join(ConfigurationPath.KeyDelimiter, segments.Take(count).Select(x => x.Length <= 64 ? x : x[..64] + "…"));

    private static PropertyInfo? FindProperty(Type type, string name) =>
        Settable(type).FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase));

    /// <summary>What the binder fills: public instance properties with a setter, or a readable collection or object.</summary>
    private static IEnumerable<PropertyInfo> Settable(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && (p.CanWrite || (p.CanRead && !IsScalar(p.PropertyType))));

    private static bool IsScalar(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        return t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(decimal) || t == typeof(TimeSpan)
               || t == typeof(DateTime) || t == typeof(DateTimeOffset) || t == typeof(Guid) || t == typeof(Uri);
    }

    private static bool IsDictionary(Type type) =>
        type.IsGenericType && type.GetInterfaces().Append(type).Any(i => i.IsGenericType
            && (i.GetGenericTypeDefinition() == typeof(IDictionary<,>) || i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>)));

    /// <summary>The value type of a dictionary or the element type of a list or array; null for anything else.</summary>
    private static Type? ElementOf(Type type)
    {
        if (type == typeof(string) || !typeof(IEnumerable).IsAssignableFrom(type))
        {
            return null;
        }
        if (type.IsArray)
        {
            return type.GetElementType();
        }
        return type.IsGenericType ? type.GetGenericArguments()[^1] : null;
    }

    /// <summary>The known name within two edits of <paramref name="name"/> (case ignored), if exactly one is closest.</summary>
    internal static string? Closest(string name, IEnumerable<string> known)
    {
        string? best = null;
        var bestDistance = 3;
        foreach (var k in known)
        {
            if (Math.Abs(k.Length - name.Length) >= bestDistance)
            {
                continue; // at least that many insertions or deletions: no closer (and no table for a huge key)
            }
            var d = Distance(name.ToLowerInvariant(), k.ToLowerInvariant());
            if (d < bestDistance)
            {
                (best, bestDistance) = (k, d);
            }
        }
        return best;
    }

    /// <summary>Optimal string alignment distance (insertions, deletions, substitutions, adjacent transpositions).</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }
        return d[a.Length, b.Length];
    }
}

/// <summary>Marker options whose start-up validation reports <see cref="ConfigurationKeys.Unknown"/>.</summary>
public sealed class ConfigurationKeysCheck
{
}

internal static class ConfigurationKeysRegistration
{
    /// <summary>Unknown keys are reported with every other start-up problem (<see cref="DaemonHost.ValidateOptions"/>).</summary>
    public static IServiceCollection AddConfigurationKeysCheck(this IServiceCollection services, IConfigurationRoot configuration)
    {
        // Read now: the web host later writes its own keys ("urls") through to this configuration.
        var unknown = ConfigurationKeys.Unknown(configuration);
        services.AddOptions<ConfigurationKeysCheck>().ValidateOnStart();
        services.AddSingleton<IValidateOptions<ConfigurationKeysCheck>>(new ConfigurationKeysValidator(unknown));
        return services;
    }
}

internal sealed class ConfigurationKeysValidator(IReadOnlyList<string> unknown) : IValidateOptions<ConfigurationKeysCheck>
{
    public ValidateOptionsResult Validate(string? name, ConfigurationKeysCheck options) =>
        unknown.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(unknown);
}
