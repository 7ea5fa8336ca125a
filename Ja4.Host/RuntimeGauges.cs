using System.Diagnostics;
using System.Globalization;
using Ja4.Modules.Core.Metrics;

namespace Ja4.Host;

/// <summary>
/// Process and .NET runtime gauges on <c>/metrics</c>: resident memory, CPU time, open file
/// descriptors, threads, GC collections per generation, heap and committed bytes. They are what
/// a soak run or a dashboard watches for leaks (a growing RSS or descriptor count).
/// </summary>
public static class RuntimeGauges
{
    private static readonly long StartTimeUnixSeconds = new DateTimeOffset(Process.GetCurrentProcess().StartTime).ToUnixTimeSeconds();

    public static void Register(Ja4Metrics metrics)
    {
        metrics.Gauge("ja4_process_resident_memory_bytes", "Resident set size of the process (VmRSS).", () => Status("VmRSS:"));
        metrics.Gauge("ja4_process_resident_anonymous_bytes", "Anonymous resident memory: heaps, managed and native (RssAnon).",
            () => Status("RssAnon:"));
        metrics.Gauge("ja4_process_resident_file_bytes", "File-backed resident memory: mapped code such as libchdb.so, reclaimable (RssFile).",
            () => Status("RssFile:"));
        metrics.Gauge("ja4_process_cpu_seconds", "User and system CPU time of the process, seconds.",
            () => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds);
        metrics.Gauge("ja4_process_open_fds", "Open file descriptors.", OpenDescriptors);
        metrics.Gauge("ja4_process_threads", "Operating-system threads of the process.", () => Process.GetCurrentProcess().Threads.Count);
        metrics.Gauge("ja4_process_start_time_seconds", "Start time of the process, Unix seconds.", () => StartTimeUnixSeconds);
        for (var generation = 0; generation <= GC.MaxGeneration; generation++)
        {
            var g = generation;
            metrics.Gauge("ja4_dotnet_gc_collections", "Garbage collections of a generation since start.",
                () => GC.CollectionCount(g), ("generation", g.ToString(CultureInfo.InvariantCulture)));
        }
        metrics.Gauge("ja4_dotnet_gc_heap_bytes", "Bytes of live and not yet collected objects on the managed heap.",
            () => GC.GetTotalMemory(forceFullCollection: false));
        metrics.Gauge("ja4_dotnet_gc_committed_bytes", "Memory the GC has committed from the operating system.",
            () => GC.GetGCMemoryInfo().TotalCommittedBytes);
        metrics.Gauge("ja4_dotnet_gc_memory_limit_bytes", "Memory the GC may use: the heap hard limit, else the machine's or container's memory.",
            () => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
        // The young generation's budget cap from DOTNET_GCGen0MaxBudget (0 when the runtime chooses): what the
        // collector lets accumulate between collections, all of it resident.
        var gcSettings = GC.GetConfigurationVariables();
        double GcSetting(string name) => gcSettings.TryGetValue(name, out var value) ? Convert.ToDouble(value, CultureInfo.InvariantCulture) : 0;
        var gen0MaxBudget = GcSetting("GCGen0MaxBudget");
        metrics.Gauge("ja4_dotnet_gc_gen0_max_budget_bytes", "Cap on the young generation's allocation budget (DOTNET_GCGen0MaxBudget; 0: the runtime's own).",
            () => gen0MaxBudget);
        // DOTNET_GCConserveMemory (0-9, 0 when unset): how eagerly the collector compacts the old generation instead of growing it.
        var conserve = GcSetting("GCConserveMem");
        metrics.Gauge("ja4_dotnet_gc_conserve_memory", "The collector's memory-conservation level (DOTNET_GCConserveMemory, 0-9; 0: not set).",
            () => conserve);
        metrics.Gauge("ja4_dotnet_gc_pause_seconds", "Time the GC has paused the process since start, seconds.",
            () => GC.GetTotalPauseDuration().TotalSeconds);
        metrics.Gauge("ja4_dotnet_allocated_bytes", "Bytes allocated on the managed heap since start.",
            () => GC.GetTotalAllocatedBytes(precise: false));
        metrics.Gauge("ja4_dotnet_threadpool_threads", "Thread-pool threads.", () => ThreadPool.ThreadCount);
    }

    /// <summary>A "Name: N kB" line of /proc/self/status, in bytes (elsewhere: the working set, or NaN).</summary>
    internal static double Status(string field)
    {
        if (OperatingSystem.IsLinux())
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith(field, StringComparison.Ordinal))
                {
                    var kb = line[field.Length..].Trim().Split(' ')[0];
                    return double.Parse(kb, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        return field == "VmRSS:" ? Environment.WorkingSet : double.NaN;
    }

    private static double OpenDescriptors() =>
        OperatingSystem.IsLinux() ? Directory.EnumerateFileSystemEntries("/proc/self/fd").Count() : double.NaN;
}
