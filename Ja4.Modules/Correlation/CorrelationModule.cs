using Ja4.Modules.Core.Filtering;
using Ja4.Modules.Core.Options;
using Ja4.Modules.Core.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Ja4.Modules.Correlation;

/// <summary>Entry point of the Correlation module.</summary>
public static class CorrelationModule
{
    /// <summary>
    /// Registers the join of handshakes and requests (with the shared <c>IpFilter</c> and the
    /// sinks of <c>Modules:Correlation:Sinks</c>) when <c>Modules:Correlation:Enabled</c> is true;
    /// nothing otherwise.
    /// </summary>
    public static IServiceCollection AddCorrelationModule(this IServiceCollection services, IConfiguration configuration)
    {
        if (!services.TryAddModuleOptions<CorrelationOptions, CorrelationOptionsValidator>(configuration, ModuleNames.Correlation))
        {
            return services;
        }
        services.AddJa4IpFilter(configuration);
        services.AddHostedService<CorrelationWorker>();
        return services;
    }
}
