using System.ComponentModel.DataAnnotations;
using Ja4.Modules.Core.Options;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Options;

namespace Ja4.Host;

/// <summary>
/// Where ASP.NET Core keeps the keys that protect the dashboard's cookies and antiforgery
/// tokens (section <c>DataProtection</c>). Persisted keys survive a restart, so signed-in
/// sessions and open forms stay valid.
/// </summary>
public sealed class DataProtectionKeysOptions
{
    public const string Section = "DataProtection";

    /// <summary>
    /// Directory of the key ring, created <c>rwx------</c> when missing. Default: empty, which
    /// leaves ASP.NET Core's own choice (<c>~/.aspnet/DataProtection-Keys</c>, or memory when the
    /// user has no home: keys then change at every start). The repository's appsettings.json uses
    /// <c>./data/keys</c>; the installed one <c>/var/lib/ja4/keys</c>.
    /// </summary>
    [MaxLength(4096)]
    public string KeysPath { get; set; } = "";
}

/// <summary>Cross-field checks of <see cref="DataProtectionKeysOptions"/>.</summary>
public sealed class DataProtectionKeysOptionsValidator : IValidateOptions<DataProtectionKeysOptions>
{
    public ValidateOptionsResult Validate(string? name, DataProtectionKeysOptions options)
    {
        if (options.KeysPath.Length == 0)
        {
            return ValidateOptionsResult.Success;
        }
        if (string.IsNullOrWhiteSpace(options.KeysPath))
        {
            return ValidateOptionsResult.Fail("DataProtection:KeysPath: must be a directory path or empty");
        }
        if (File.Exists(options.KeysPath))
        {
            return ValidateOptionsResult.Fail($"DataProtection:KeysPath: {options.KeysPath} is a file, not a directory");
        }
        return ValidateOptionsResult.Success;
    }
}

/// <summary>Registers the data-protection key ring under <c>DataProtection:KeysPath</c>.</summary>
public static class DataProtectionKeys
{
    /// <summary>Application name shared by every ja4 process, so that they read each other's keys.</summary>
    public const string ApplicationName = "ja4";

    public static IServiceCollection AddJa4DataProtection(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DataProtectionKeysOptions>().Bind(configuration.GetSection(DataProtectionKeysOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DataProtectionKeysOptions>>(
            new KeyedDataAnnotationsValidator<DataProtectionKeysOptions>(DataProtectionKeysOptions.Section));
        services.AddSingleton<IValidateOptions<DataProtectionKeysOptions>, DataProtectionKeysOptionsValidator>();
        services.AddDataProtection().SetApplicationName(ApplicationName);
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>, KeyRingLocation>();
        return services;
    }

    /// <summary>
    /// Points the key manager at the configured directory. It runs when the key ring is first
    /// used, after start-up validation, so the path is known to be usable.
    /// </summary>
    private sealed class KeyRingLocation(IOptions<DataProtectionKeysOptions> options, ILoggerFactory loggers)
        : IConfigureOptions<KeyManagementOptions>
    {
        public void Configure(KeyManagementOptions target)
        {
            var path = options.Value.KeysPath;
            if (path.Length == 0)
            {
                return;
            }
            var directory = Path.GetFullPath(path);
            if (!Directory.Exists(directory))
            {
                // Only the daemon's user may read the keys: they sign the dashboard's cookies.
                if (OperatingSystem.IsWindows())
                {
                    Directory.CreateDirectory(directory);
                }
                else
                {
                    Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }
            }
            target.XmlRepository = new FileSystemXmlRepository(new DirectoryInfo(directory), loggers);
        }
    }
}
