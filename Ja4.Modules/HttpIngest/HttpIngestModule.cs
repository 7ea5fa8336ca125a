using Ja4.Modules.Core.Filtering;
using Ja4.Modules.Core.Options;
using Ja4.Modules.Core.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Ja4.Modules.HttpIngest;

/// <summary>Entry point of the HttpIngest module: the socket mod_reqin_log writes to.</summary>
public static class HttpIngestModule
{
    /// <summary>Registers the socket listener when <c>Modules:HttpIngest:Enabled</c> is true; nothing otherwise.</summary>
    public static IServiceCollection AddHttpIngestModule(this IServiceCollection services, IConfiguration configuration)
    {
        if (!services.TryAddModuleOptions<HttpIngestOptions, HttpIngestOptionsValidator>(configuration, ModuleNames.HttpIngest))
        {
            return services;
        }
        services.AddJa4IpFilter(configuration);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("Modules:HttpIngest needs Linux (SOCK_SEQPACKET UNIX sockets)");
        }
        services.AddHostedService<ReqinSocketListener>();
        return services;
    }
}
