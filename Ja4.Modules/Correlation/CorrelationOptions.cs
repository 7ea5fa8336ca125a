using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Ja4.Modules.Correlation;

/// <summary><c>Modules:Correlation</c>: joins HTTP requests with the TLS handshake of their connection.</summary>
public sealed class CorrelationOptions
{
    /// <summary>Switches the module on. Default: false when absent.</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// How long a TLS request waits for its handshake (capture and Apache are independent, so a
    /// request can arrive first) before it goes out unmatched. Measured on the daemon's clock
    /// from the request's arrival. Default: 00:00:03.
    /// </summary>
    public TimeSpan HandshakeWait { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>A connection without a handshake or a request for this long is forgotten. Default: 00:05:00.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long a connection closed by FIN/RST stays in the table, so that request records Apache
    /// logs after the close still find it. Default: 00:00:10.
    /// </summary>
    public TimeSpan CloseGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Largest difference allowed between capture timestamps and Apache timestamps when deciding
    /// whether a request falls inside a connection's lifetime. Default: 00:00:01.
    /// </summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Most connections tracked at once; beyond it the least recently used goes first. Default: 262144.</summary>
    [Range(1, 16_777_216)]
    public int MaxConnections { get; set; } = 262_144;

    /// <summary>Most requests waiting for their handshake at once; beyond it the oldest goes out unmatched. Default: 65536.</summary>
    [Range(1, 16_777_216)]
    public int MaxPendingRequests { get; set; } = 65_536;

    /// <summary>
    /// On shutdown, how long the module may wait for room in its output channels while it drains
    /// what is already queued. Default: 00:00:10.
    /// </summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Outputs besides storage and the dashboard feed.</summary>
    public CorrelationSinksOptions Sinks { get; set; } = new();
}

/// <summary><c>Modules:Correlation:Sinks</c>.</summary>
public sealed class CorrelationSinksOptions
{
    /// <summary>JSON lines to a size-rotated file.</summary>
    public FileSinkOptions File { get; set; } = new();

    /// <summary>JSON lines to standard output.</summary>
    public StdoutSinkOptions Stdout { get; set; } = new();
}

/// <summary><c>Modules:Correlation:Sinks:File</c>.</summary>
public sealed class FileSinkOptions
{
    /// <summary>Switches the file sink on. Default: false.</summary>
    public bool Enabled { get; set; }

    /// <summary>File written; rotated files get <c>.1</c>, <c>.2</c>, ... (newest first). Default: <c>/var/log/ja4/correlated.jsonl</c>.</summary>
    public string Path { get; set; } = "/var/log/ja4/correlated.jsonl";

    /// <summary>Size at which the file is rotated, MiB. Default: 100.</summary>
    [Range(1, 1_048_576)]
    public int MaxSizeMb { get; set; } = 100;

    /// <summary>Rotated files kept besides the current one. Default: 5.</summary>
    [Range(0, 1000)]
    public int Keep { get; set; } = 5;
}

/// <summary><c>Modules:Correlation:Sinks:Stdout</c>.</summary>
public sealed class StdoutSinkOptions
{
    /// <summary>Switches the stdout sink on. Default: false.</summary>
    public bool Enabled { get; set; }
}

internal sealed class CorrelationOptionsValidator : IValidateOptions<CorrelationOptions>
{
    private const string Prefix = "Modules:Correlation:";

    public ValidateOptionsResult Validate(string? name, CorrelationOptions o)
    {
        var errors = new List<string>();
        Positive(errors, "HandshakeWait", o.HandshakeWait);
        Positive(errors, "IdleTimeout", o.IdleTimeout);
        Positive(errors, "DrainTimeout", o.DrainTimeout);
        if (o.CloseGrace < TimeSpan.Zero)
        {
            errors.Add(Prefix + "CloseGrace must not be negative");
        }
        if (o.ClockSkew < TimeSpan.Zero)
        {
            errors.Add(Prefix + "ClockSkew must not be negative");
        }
        else if (o.ClockSkew > TimeSpan.FromHours(1))
        {
            errors.Add(Prefix + "ClockSkew must be at most 01:00:00");
        }
        if (o.IdleTimeout > TimeSpan.Zero && o.HandshakeWait > o.IdleTimeout)
        {
            errors.Add(Prefix + "HandshakeWait must not be longer than Modules:Correlation:IdleTimeout");
        }
        if (o.Sinks.File.Enabled)
        {
            if (string.IsNullOrWhiteSpace(o.Sinks.File.Path))
            {
                errors.Add(Prefix + "Sinks:File:Path is required when Sinks:File:Enabled is true");
            }
            else if (Directory.Exists(o.Sinks.File.Path))
            {
                errors.Add(Prefix + $"Sinks:File:Path must name a file, not the directory {o.Sinks.File.Path}");
            }
        }
        // Nested sections are not covered by ValidateDataAnnotations.
        if (o.Sinks.File.MaxSizeMb is < 1 or > 1_048_576)
        {
            errors.Add(Prefix + "Sinks:File:MaxSizeMb must be between 1 and 1048576");
        }
        if (o.Sinks.File.Keep is < 0 or > 1000)
        {
            errors.Add(Prefix + "Sinks:File:Keep must be between 0 and 1000");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Positive(List<string> errors, string key, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add(Prefix + key + " must be positive");
        }
    }
}
