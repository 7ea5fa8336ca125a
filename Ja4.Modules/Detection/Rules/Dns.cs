using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Ja4.Modules.Detection.Rules;

/// <summary>Outcome of one DNS lookup.</summary>
public enum DnsStatus : byte
{
    /// <summary>The server answered with records.</summary>
    Found = 0,
    /// <summary>The server answered that there is no such record (NXDOMAIN or an empty answer).</summary>
    NotFound = 1,
    /// <summary>No usable answer: no server, a timeout, SERVFAIL, a malformed reply.</summary>
    Unavailable = 2,
}

public sealed record DnsAnswer(DnsStatus Status, IReadOnlyList<string> Names, IReadOnlyList<IPAddress> Addresses)
{
    public static readonly DnsAnswer None = new(DnsStatus.NotFound, [], []);
    public static readonly DnsAnswer Unavailable = new(DnsStatus.Unavailable, [], []);
}

/// <summary>The two lookups of forward-confirmed reverse DNS.</summary>
public interface IDnsResolver
{
    /// <summary>PTR names of an address.</summary>
    Task<DnsAnswer> ReverseAsync(IPAddress address, CancellationToken cancellationToken);

    /// <summary>A and AAAA addresses of a name.</summary>
    Task<DnsAnswer> ForwardAsync(string name, CancellationToken cancellationToken);
}

/// <summary>A resolver that never answers: every crawler stays "unverified".</summary>
public sealed class NoDnsResolver : IDnsResolver
{
    public Task<DnsAnswer> ReverseAsync(IPAddress address, CancellationToken cancellationToken) => Task.FromResult(DnsAnswer.Unavailable);

    public Task<DnsAnswer> ForwardAsync(string name, CancellationToken cancellationToken) => Task.FromResult(DnsAnswer.Unavailable);
}

/// <summary>The operating system's resolver (<c>/etc/resolv.conf</c>, nsswitch).</summary>
public sealed class SystemDnsResolver : IDnsResolver
{
    public async Task<DnsAnswer> ReverseAsync(IPAddress address, CancellationToken cancellationToken)
    {
        try
        {
            var entry = await Dns.GetHostEntryAsync(address.ToString(), cancellationToken).ConfigureAwait(false);
            string[] names = [entry.HostName, .. entry.Aliases];
            var valid = names.Where(n => !string.IsNullOrEmpty(n) && n != address.ToString()).ToArray();
            return valid.Length == 0 ? DnsAnswer.None : new DnsAnswer(DnsStatus.Found, valid, []);
        }
        catch (SocketException e)
        {
            return Classify(e);
        }
    }

    public async Task<DnsAnswer> ForwardAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var addresses = await Dns.GetHostAddressesAsync(name, cancellationToken).ConfigureAwait(false);
            return addresses.Length == 0 ? DnsAnswer.None : new DnsAnswer(DnsStatus.Found, [], addresses);
        }
        catch (SocketException e)
        {
            return Classify(e);
        }
    }

    private static DnsAnswer Classify(SocketException e) =>
        e.SocketErrorCode is SocketError.HostNotFound or SocketError.NoData ? DnsAnswer.None : DnsAnswer.Unavailable;
}

/// <summary>
/// A stub resolver that asks one DNS server over UDP (RFC 1035 §4): PTR, A and AAAA queries with
/// recursion desired. Replies are parsed with every length checked; a bad reply is "unavailable".
/// </summary>
public sealed class UdpDnsResolver(IPEndPoint server, TimeSpan timeout, TimeProvider time) : IDnsResolver
{
    private const ushort TypeA = 1;
    private const ushort TypePtr = 12;
    private const ushort TypeAaaa = 28;
    private int _id = Environment.TickCount & 0xffff;

    public async Task<DnsAnswer> ReverseAsync(IPAddress address, CancellationToken cancellationToken) =>
        await QueryAsync(ReverseName(address), TypePtr, cancellationToken).ConfigureAwait(false);

    public async Task<DnsAnswer> ForwardAsync(string name, CancellationToken cancellationToken)
    {
        var a = await QueryAsync(name, TypeA, cancellationToken).ConfigureAwait(false);
        var aaaa = await QueryAsync(name, TypeAaaa, cancellationToken).ConfigureAwait(false);
        if (a.Status == DnsStatus.Unavailable && aaaa.Status == DnsStatus.Unavailable)
        {
            return DnsAnswer.Unavailable;
        }
        var all = a.Addresses.Concat(aaaa.Addresses).ToArray();
        return all.Length > 0 ? new DnsAnswer(DnsStatus.Found, [], all)
            : a.Status == DnsStatus.Unavailable || aaaa.Status == DnsStatus.Unavailable ? DnsAnswer.Unavailable : DnsAnswer.None;
    }

    /// <summary>in-addr.arpa / ip6.arpa name of an address (RFC 1035 §3.5, RFC 3596 §2.5).</summary>
    public static string ReverseName(IPAddress address)
    {
        address = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        var bytes = address.GetAddressBytes();
        if (bytes.Length == 4)
        {
            return $"{bytes[3]}.{bytes[2]}.{bytes[1]}.{bytes[0]}.in-addr.arpa";
        }
        var sb = new StringBuilder(72);
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            sb.Append("0123456789abcdef"[bytes[i] & 0xf]).Append('.').Append("0123456789abcdef"[bytes[i] >> 4]).Append('.');
        }
        return sb.Append("ip6.arpa").ToString();
    }

    private async Task<DnsAnswer> QueryAsync(string name, ushort type, CancellationToken cancellationToken)
    {
        var id = (ushort)Interlocked.Increment(ref _id);
        byte[] query;
        try
        {
            query = BuildQuery(id, name, type);
        }
        catch (ArgumentException)
        {
            return DnsAnswer.None;
        }
        using var timeoutCts = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutCts.Token);
        using var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            await socket.ConnectAsync(server, linked.Token).ConfigureAwait(false);
            await socket.SendAsync(query, SocketFlags.None, linked.Token).ConfigureAwait(false);
            var buffer = new byte[4096];
            while (true)
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None, linked.Token).ConfigureAwait(false);
                if (n >= 2 && BinaryPrimitives.ReadUInt16BigEndian(buffer) == id)
                {
                    return Parse(buffer.AsSpan(0, n), type);
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return DnsAnswer.Unavailable;
        }
        catch (SocketException)
        {
            return DnsAnswer.Unavailable;
        }
    }

    internal static byte[] BuildQuery(ushort id, string name, ushort type)
    {
        var buffer = new List<byte>(64);
        void U16(int v)
        {
            buffer.Add((byte)(v >> 8));
            buffer.Add((byte)v);
        }
        U16(id);
        U16(0x0100); // standard query, recursion desired
        U16(1);
        U16(0);
        U16(0);
        U16(0);
        foreach (var label in name.TrimEnd('.').Split('.'))
        {
            var bytes = Encoding.ASCII.GetBytes(label);
            if (bytes.Length is 0 or > 63)
            {
                throw new ArgumentException($"invalid DNS name {name}", nameof(name));
            }
            buffer.Add((byte)bytes.Length);
            buffer.AddRange(bytes);
        }
        buffer.Add(0);
        U16(type);
        U16(1); // class IN
        return buffer.ToArray();
    }

    internal static DnsAnswer Parse(ReadOnlySpan<byte> m, ushort type)
    {
        if (m.Length < 12 || (m[2] & 0x80) == 0)
        {
            return DnsAnswer.Unavailable;
        }
        var rcode = m[3] & 0x0f;
        if (rcode == 3)
        {
            return DnsAnswer.None;
        }
        if (rcode != 0)
        {
            return DnsAnswer.Unavailable;
        }
        int questions = BinaryPrimitives.ReadUInt16BigEndian(m[4..]), answers = BinaryPrimitives.ReadUInt16BigEndian(m[6..]);
        var at = 12;
        for (var q = 0; q < questions; q++)
        {
            if (ReadName(m, ref at) is null || (at += 4) > m.Length)
            {
                return DnsAnswer.Unavailable;
            }
        }
        var names = new List<string>();
        var addresses = new List<IPAddress>();
        for (var a = 0; a < answers; a++)
        {
            if (ReadName(m, ref at) is null || at + 10 > m.Length)
            {
                return DnsAnswer.Unavailable;
            }
            var rrType = BinaryPrimitives.ReadUInt16BigEndian(m[at..]);
            var length = BinaryPrimitives.ReadUInt16BigEndian(m[(at + 8)..]);
            at += 10;
            if (at + length > m.Length)
            {
                return DnsAnswer.Unavailable;
            }
            if (rrType == type && type == TypePtr)
            {
                var p = at;
                if (ReadName(m, ref p) is { } ptr)
                {
                    names.Add(ptr);
                }
            }
            else if (rrType == type && ((type == TypeA && length == 4) || (type == TypeAaaa && length == 16)))
            {
                addresses.Add(new IPAddress(m.Slice(at, length)));
            }
            at += length;
        }
        return names.Count + addresses.Count == 0 ? DnsAnswer.None : new DnsAnswer(DnsStatus.Found, names, addresses);
    }

    /// <summary>Reads a possibly compressed name (RFC 1035 §4.1.4); null when malformed or looping.</summary>
    private static string? ReadName(ReadOnlySpan<byte> m, ref int at)
    {
        var sb = new StringBuilder();
        var p = at;
        var jumped = false;
        for (var hops = 0; hops < 64; hops++)
        {
            if (p >= m.Length)
            {
                return null;
            }
            var len = m[p];
            if (len == 0)
            {
                if (!jumped)
                {
                    at = p + 1;
                }
                return sb.ToString();
            }
            if ((len & 0xc0) == 0xc0)
            {
                if (p + 1 >= m.Length)
                {
                    return null;
                }
                if (!jumped)
                {
                    at = p + 2;
                }
                jumped = true;
                p = ((len & 0x3f) << 8) | m[p + 1];
                continue;
            }
            if (p + 1 + len > m.Length)
            {
                return null;
            }
            if (sb.Length > 0)
            {
                sb.Append('.');
            }
            sb.Append(Encoding.ASCII.GetString(m.Slice(p + 1, len)));
            p += 1 + len;
        }
        return null;
    }
}
