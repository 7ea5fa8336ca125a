using Ja4.Modules.Core.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ja4.Modules.Core.Options;

/// <summary>Helpers shared by every module's <c>AddXxxModule</c>.</summary>
public static class ModuleRegistration
{
    /// <summary>
    /// Binds <typeparamref name="TOptions"/> from <c>Modules:&lt;module&gt;</c>, validates its
    /// DataAnnotations and the given cross-field validator at start-up. Returns false (and
    /// registers nothing) when the module is disabled.
    /// </summary>
    public static bool TryAddModuleOptions<TOptions, TValidator>(this IServiceCollection services,
        IConfiguration configuration, string module)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        if (!ModuleNames.IsEnabled(configuration, module))
        {
            return false;
        }
        var section = ModuleNames.Section(module);
        services.AddOptions<TOptions>().Bind(configuration.GetSection(section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TOptions>>(new KeyedDataAnnotationsValidator<TOptions>(section));
        services.AddSingleton<IValidateOptions<TOptions>, TValidator>();
        return true;
    }
}

/// <summary>
/// DataAnnotations validation whose messages name the configuration key
/// ("Modules:Capture:SnapLength: The field SnapLength must be between 256 and 262144.").
/// Nested option objects are validated too, with their path.
/// </summary>
public sealed class KeyedDataAnnotationsValidator<TOptions>(string sectionPath) : IValidateOptions<TOptions>
    where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var errors = new List<string>();
        Collect(options, sectionPath, errors, depth: 0);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Collect(object instance, string path, List<string> errors, int depth)
    {
        var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        System.ComponentModel.DataAnnotations.Validator.TryValidateObject(instance,
            new System.ComponentModel.DataAnnotations.ValidationContext(instance), results, validateAllProperties: true);
        foreach (var r in results)
        {
            var member = r.MemberNames.FirstOrDefault();
            errors.Add(member is null ? $"{path}: {r.ErrorMessage}" : $"{path}:{member}: {r.ErrorMessage}");
        }
        if (depth > 4)
        {
            return;
        }
        foreach (var p in instance.GetType().GetProperties())
        {
            var t = p.PropertyType;
            if (p.GetIndexParameters().Length == 0 && t.IsClass && t != typeof(string) &&
                t.Namespace?.StartsWith("Ja4.", StringComparison.Ordinal) == true && p.GetValue(instance) is { } child)
            {
                Collect(child, $"{path}:{p.Name}", errors, depth + 1);
            }
        }
    }
}
