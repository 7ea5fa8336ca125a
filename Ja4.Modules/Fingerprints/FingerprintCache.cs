namespace Ja4.Modules.Fingerprints;

/// <summary>
/// Remembers recent fingerprints by their readable form, for <see cref="TlsFingerprinter.Compute(ClientHello, Core.Events.Transport, FingerprintCache?)"/>:
/// a site sees few distinct client stacks, so most hellos repeat a raw string already hashed.
/// A hit costs one lookup by characters instead of a SHA-256 or MD5, and returns the strings
/// already held, so that every hello of one stack shares them. Bounded: each map starts again
/// empty when it reaches <see cref="MaxEntries"/>. Not thread-safe: one per capture thread.
/// </summary>
public sealed class FingerprintCache
{
    /// <summary>Entries per map before it is cleared.</summary>
    public const int MaxEntries = 4096;

    /// <summary>Longest ALPN list (in bytes) whose display names are kept.</summary>
    private const int MaxAlpnKeyChars = 256;

    /// <summary>JA4_r → JA4.</summary>
    internal Dictionary<string, string> Sorted { get; } = new(StringComparer.Ordinal);

    /// <summary>JA4_ro → JA4_o.</summary>
    internal Dictionary<string, string> Original { get; } = new(StringComparer.Ordinal);

    /// <summary>JA3 string → JA3 hash.</summary>
    internal Dictionary<string, string> Ja3 { get; } = new(StringComparer.Ordinal);

    /// <summary>ALPN list (length-prefixed bytes as chars) → display names.</summary>
    private readonly Dictionary<string, IReadOnlyList<string>> _alpn = new(StringComparer.Ordinal);

    /// <summary>The display names of an ALPN list (<see cref="ClientHello.AlpnNames"/>), shared between equal lists.</summary>
    internal IReadOnlyList<string> AlpnNames(byte[][] alpn)
    {
        if (alpn.Length == 0)
        {
            return [];
        }
        Span<char> key = stackalloc char[MaxAlpnKeyChars];
        var n = 0;
        foreach (var value in alpn)
        {
            if (n + 1 + value.Length > key.Length)
            {
                return Array.ConvertAll(alpn, ClientHello.AlpnText);
            }
            key[n++] = (char)value.Length;
            foreach (var b in value)
            {
                key[n++] = (char)b;
            }
        }
        var lookup = _alpn.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(key[..n], out var names))
        {
            return names;
        }
        if (_alpn.Count >= MaxEntries)
        {
            _alpn.Clear();
        }
        names = Array.ConvertAll(alpn, ClientHello.AlpnText);
        _alpn[new string(key[..n])] = names;
        return names;
    }
}
