using Ja4.Modules.Capture;
using Ja4.Modules.Core.Metrics;
using Ja4.Modules.Core.Pipeline;
using Ja4.Modules.Correlation;
using Ja4.Modules.Dashboard;
using Ja4.Modules.Detection;
using Ja4.Modules.HttpIngest;
using Ja4.Modules.Storage;
using Microsoft.Extensions.Options;
using Serilog;
using Serilog.Formatting.Compact;

namespace Ja4.Host;

/// <summary>Builds the daemon: configuration, logging, the pipeline and every enabled module.</summary>
public static class DaemonHost
{
    public const string EnvironmentPrefix = "JA4_";

    /// <summary>Configuration: the JSON file, then <c>JA4_</c> environment variables, then overrides.</summary>
    public static IConfigurationRoot LoadConfiguration(string configPath, IDictionary<string, string?>? overrides = null)
    {
        if (!File.Exists(configPath))
        {
            throw new CommandFailedException($"configuration file not found: {configPath}");
        }
        var builder = new ConfigurationBuilder()
            .AddJsonFile(Path.GetFullPath(configPath), optional: false, reloadOnChange: false)
            .AddEnvironmentVariables(EnvironmentPrefix);
        if (overrides is not null)
        {
            builder.AddInMemoryCollection(overrides);
        }
        try
        {
            return builder.Build();
        }
        catch (InvalidDataException e)
        {
            throw new CommandFailedException($"configuration file {configPath} is not valid JSON: {e.InnerException?.Message ?? e.Message}");
        }
    }

    /// <summary>The web application with every enabled module registered.</summary>
    public static WebApplication Build(IConfigurationRoot configuration)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            // Fixed so that the static web assets manifests (ja4.staticwebassets.*.json) are
            // found whichever assembly started the process (tests run the host in-process).
            ApplicationName = "ja4",
            Args = [],
        });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddConfiguration(configuration);
        builder.Host.UseSystemd();
        if (ModuleNames.IsEnabled(configuration, ModuleNames.Dashboard))
        {
            // Serves the component libraries' assets from a build output too (a published
            // output carries them itself and has no manifest, which makes this a no-op).
            builder.WebHost.UseStaticWebAssets();
        }
        builder.Services.AddSerilog((_, lc) => ConfigureLogging(lc, configuration));

        builder.Services.AddReadinessChecks(configuration);
        builder.Services.AddOptions<OperationsOptions>().Bind(configuration.GetSection(OperationsOptions.Section)).ValidateOnStart();
        builder.Services.AddHostedService<StartupCodeTrim>();
        builder.Services.AddJa4DataProtection(configuration);
        AddModules(builder.Services, configuration, replay: false);

        var urls = ListenUrls(configuration);
        builder.WebHost.UseUrls(urls);
        var app = builder.Build();
        RuntimeGauges.Register(app.Services.GetRequiredService<Ja4Metrics>());
        app.UseStoppingGate();
        app.MapGet("/metrics", (Ja4Metrics m) => Results.Text(m.RenderPrometheus(), "text/plain; version=0.0.4"));
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapHealthChecks("/readyz", new Microsoft.AspNetCore.Diagnostics.HealthChecks.HealthCheckOptions
        {
            ResponseWriter = ReadinessReport.WriteAsync,
        });
        app.MapDashboard();
        app.MapDetectionApi();
        return app;
    }

    /// <summary>
    /// A host for <c>ja4 replay</c>: no HTTP listener, the modules the configuration enables
    /// (the caller switches capture, ingest, dashboard and detection off), the capture and
    /// ingest edges fed by the caller, and <paramref name="clock"/> as the process's time.
    /// </summary>
    public static IHost BuildReplay(IConfigurationRoot configuration, TimeProvider clock)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = AppContext.BaseDirectory,
            ApplicationName = "ja4",
            Args = [],
            Configuration = new ConfigurationManager(),
        });
        builder.Configuration.AddConfiguration(configuration);
        builder.Services.AddSerilog((_, lc) => ConfigureLogging(lc, configuration));
        builder.Services.AddSingleton(clock);
        AddModules(builder.Services, configuration, replay: true);
        return builder.Build();
    }

    private static void AddModules(IServiceCollection services, IConfigurationRoot configuration, bool replay) =>
        services
            .AddConfigurationKeysCheck(configuration)
            .AddJa4Pipeline(configuration, replay)
            .AddCaptureModule(configuration)
            .AddHttpIngestModule(configuration)
            .AddCorrelationModule(configuration)
            .AddStorageModule(configuration)
            .AddDetectionModule(configuration)
            .AddDashboardModule(configuration)
            // Last, so that the host stops it first: it stops the modules' workers in data-flow order.
            .AddHostedService<PipelineShutdown>();

    /// <summary>Dashboard URLs when the dashboard is on, else the operations URL (metrics, health).</summary>
    internal static string ListenUrls(IConfiguration configuration) =>
        ModuleNames.IsEnabled(configuration, ModuleNames.Dashboard)
            ? configuration["Modules:Dashboard:Urls"] ?? "http://127.0.0.1:8080"
            : configuration["Operations:Urls"] ?? OperationsOptions.DefaultUrls;

    internal static void ConfigureLogging(LoggerConfiguration lc, IConfiguration configuration)
    {
        lc.ReadFrom.Configuration(configuration, new Serilog.Settings.Configuration.ConfigurationReaderOptions
        {
            SectionName = "Logging:Serilog",
        });
        lc.Enrich.FromLogContext();
        var format = configuration["Logging:Console:Format"] ?? "text";
        if (string.Equals(format, "json", StringComparison.OrdinalIgnoreCase))
        {
            lc.WriteTo.Console(new CompactJsonFormatter());
        }
        else if (!string.Equals(format, "none", StringComparison.OrdinalIgnoreCase))
        {
            lc.WriteTo.Console(outputTemplate: "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffZ} {Level:u3} {SourceContext}: {Message:lj}{NewLine}{Exception}",
                formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        }
        var file = configuration["Logging:File:Path"];
        if (!string.IsNullOrWhiteSpace(file))
        {
            lc.WriteTo.File(new CompactJsonFormatter(), file, rollingInterval: RollingInterval.Day,
                retainedFileCountLimit: configuration.GetValue<int?>("Logging:File:RetainedFiles") ?? 14);
        }
    }

    /// <summary>
    /// Runs every options validator of the enabled modules and the pipeline at once, before any
    /// worker is constructed (the host resolves its workers before it validates, and a worker that
    /// reads its options first would report only its own problem). Throws with all problems.
    /// </summary>
    public static void ValidateOptions(IServiceProvider services) =>
        services.GetService<IStartupValidator>()?.Validate();

    /// <summary>Start-up failures as one line each (options validation reports every problem).</summary>
    public static IReadOnlyList<string> Explain(Exception e) => e switch
    {
        OptionsValidationException ov => ov.Failures.ToArray(),
        AggregateException ag => ag.InnerExceptions.SelectMany(Explain).ToArray(),
        _ when e.InnerException is OptionsValidationException inner => Explain(inner),
        _ => [e.Message],
    };
}
