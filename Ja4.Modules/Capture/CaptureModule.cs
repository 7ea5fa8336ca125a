using Ja4.Modules.Core.Filtering;
using Ja4.Modules.Core.Options;
using Ja4.Modules.Core.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Ja4.Modules.Capture;

/// <summary>Entry point of the capture module.</summary>
public static class CaptureModule
{
    /// <summary>Registers live capture when <c>Modules:Capture:Enabled</c> is true; nothing otherwise.</summary>
    public static IServiceCollection AddCaptureModule(this IServiceCollection services, IConfiguration configuration)
    {
        if (!services.TryAddModuleOptions<CaptureOptions, CaptureOptionsValidator>(configuration, ModuleNames.Capture))
        {
            return services;
        }
        services.AddJa4IpFilter(configuration);
        services.AddSingleton<CaptureWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<CaptureWorker>());
        return services;
    }
}
