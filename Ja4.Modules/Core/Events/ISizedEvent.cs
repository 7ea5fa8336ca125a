namespace Ja4.Modules.Core.Events;

/// <summary>
/// An event whose managed memory depends on what the network sent (strings, header lists): channels bound
/// the bytes they hold with it as well as the number of events (<c>Pipeline:Channels:&lt;Edge&gt;:MaxMb</c>),
/// and the storage writer closes a batch at a size.
/// </summary>
public interface ISizedEvent
{
    /// <summary>
    /// Managed bytes the event keeps alive, estimated from its strings (UTF-16, object headers) and fixed fields.
    /// Cheap to compute, and the same every time for the same event.
    /// </summary>
    long ApproximateBytes { get; }
}

/// <summary>Size estimates shared by the events.</summary>
public static class EventSize
{
    /// <summary>Object header and method table pointer of any reference type on 64-bit.</summary>
    public const int ObjectOverhead = 16;

    /// <summary>A string object: header, length and UTF-16 characters with the terminator, 8-byte aligned.</summary>
    public static long Of(string? s) => s is null ? 0 : (ObjectOverhead + 4 + 2L * (s.Length + 1) + 7) & ~7L;
}
