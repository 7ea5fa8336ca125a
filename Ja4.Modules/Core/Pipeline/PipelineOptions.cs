using System.ComponentModel.DataAnnotations;

namespace Ja4.Modules.Core.Pipeline;

/// <summary>Sizing of one channel: <c>Pipeline:Channels:&lt;Edge&gt;</c>.</summary>
public sealed class ChannelOptions
{
    /// <summary>Maximum queued events. Default: per edge (see docs/configuration.md).</summary>
    [Range(16, 16_777_216)]
    public int? Capacity { get; set; }

    /// <summary>
    /// Largest estimated managed size of the events queued, MiB (requests and handshakes: their strings and headers
    /// count, so a burst of huge records fills it before the event count). Default: per edge (see docs/configuration.md).
    /// </summary>
    [Range(1, 65_536)]
    public int? MaxMb { get; set; }

    /// <summary><c>Drop</c> or <c>Wait</c>. Capture and the socket reader always drop.</summary>
    public EdgeFullMode? FullMode { get; set; }
}

/// <summary>The <c>Pipeline</c> section.</summary>
public sealed class PipelineOptions
{
    public const string SectionName = "Pipeline";

    /// <summary>Per-edge channel sizing, keyed by edge name (Handshakes, Connections, ...).</summary>
    public Dictionary<string, ChannelOptions> Channels { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}
