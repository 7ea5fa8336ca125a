using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Ja4.Tests.EndToEnd;

/// <summary>A response read by <see cref="RawHttpConnection"/>.</summary>
public sealed record RawHttpResponse(int Status, IReadOnlyDictionary<string, string> Headers, byte[] Body);

/// <summary>
/// HTTP/1.1 over a plain TCP socket with full control of the bytes sent (header order, case,
/// hostile values), keep-alive, and the client's local port known.
/// </summary>
public sealed class RawHttpConnection : IAsyncDisposable, IDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start, _end;

    private RawHttpConnection(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    public int LocalPort => ((IPEndPoint)_client.Client.LocalEndPoint!).Port;

    public static async Task<RawHttpConnection> OpenAsync(int port, CancellationToken cancellationToken = default)
    {
        var c = new TcpClient { NoDelay = true };
        await c.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
        return new RawHttpConnection(c);
    }

    /// <summary>A request from a path and header lines ("Name: value"), CRLF-terminated, no body.</summary>
    public static byte[] Request(string method, string target, IEnumerable<string> headerLines)
    {
        var sb = new StringBuilder().Append(method).Append(' ').Append(target).Append(" HTTP/1.1\r\n");
        foreach (var h in headerLines)
        {
            sb.Append(h).Append("\r\n");
        }
        return Encoding.Latin1.GetBytes(sb.Append("\r\n").ToString());
    }

    public async Task<RawHttpResponse> SendAsync(byte[] request, CancellationToken cancellationToken = default)
    {
        await _stream.WriteAsync(request, cancellationToken);
        return await ReadResponseAsync(cancellationToken);
    }

    public async Task<RawHttpResponse> ReadResponseAsync(CancellationToken cancellationToken = default)
    {
        var head = await ReadHeadAsync(cancellationToken);
        var lines = head.Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var l in lines.Skip(1))
        {
            var colon = l.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                headers[l[..colon].Trim()] = l[(colon + 1)..].Trim();
            }
        }
        byte[] body;
        if (headers.TryGetValue("Content-Length", out var cl))
        {
            body = await ReadExactAsync(int.Parse(cl, CultureInfo.InvariantCulture), cancellationToken);
        }
        else if (headers.TryGetValue("Transfer-Encoding", out var te) && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            var ms = new MemoryStream();
            while (true)
            {
                var size = Convert.ToInt32((await ReadLineAsync(cancellationToken)).Split(';')[0], 16);
                if (size == 0)
                {
                    await ReadLineAsync(cancellationToken);
                    break;
                }
                ms.Write(await ReadExactAsync(size, cancellationToken));
                await ReadLineAsync(cancellationToken);
            }
            body = ms.ToArray();
        }
        else
        {
            var ms = new MemoryStream();
            ms.Write(_buffer, _start, _end - _start);
            _start = _end = 0;
            await _stream.CopyToAsync(ms, cancellationToken);
            body = ms.ToArray();
        }
        return new RawHttpResponse(status, headers, body);
    }

    private async Task<string> ReadHeadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var idx = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8);
            if (idx >= 0)
            {
                var head = Encoding.Latin1.GetString(_buffer, _start, idx);
                _start += idx + 4;
                return head;
            }
            await FillAsync(cancellationToken);
        }
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var idx = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8);
            if (idx >= 0)
            {
                var line = Encoding.Latin1.GetString(_buffer, _start, idx);
                _start += idx + 2;
                return line;
            }
            await FillAsync(cancellationToken);
        }
    }

    private async Task<byte[]> ReadExactAsync(int n, CancellationToken cancellationToken)
    {
        var result = new byte[n];
        var got = 0;
        while (got < n)
        {
            if (_start == _end)
            {
                await FillAsync(cancellationToken);
            }
            var take = Math.Min(n - got, _end - _start);
            Buffer.BlockCopy(_buffer, _start, result, got, take);
            _start += take;
            got += take;
        }
        return result;
    }

    private async Task FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        var n = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        if (n == 0)
        {
            throw new IOException("connection closed by the server");
        }
        _end += n;
    }

    public void Dispose() => _client.Dispose();

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>One transfer made by curl.</summary>
public sealed record CurlResult(int LocalPort, string HttpVersion, int Status);

/// <summary>curl, for HTTP/2 over TLS (ALPN) the way a real client does it.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class Curl
{
    /// <summary>Fetches the URLs in order on one connection where possible; one result per URL.</summary>
    public static async Task<IReadOnlyList<CurlResult>> GetAsync(IEnumerable<Uri> urls, IEnumerable<string> extraArgs,
        CancellationToken cancellationToken = default)
    {
        var args = new List<string> { "-sS", "-k", "--max-time", "20" };
        args.AddRange(extraArgs);
        foreach (var u in urls)
        {
            args.AddRange(["-o", "/dev/null", "-w", "%{local_port} %{http_version} %{http_code}\\n", u.ToString()]);
        }
        var (code, output) = await ApacheFixture.RunAsync("curl", args, cancellationToken);
        if (code != 0)
        {
            throw new InvalidOperationException($"curl failed ({code}): {output}");
        }
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' '))
            .Select(p => new CurlResult(int.Parse(p[0], CultureInfo.InvariantCulture), p[1], int.Parse(p[2], CultureInfo.InvariantCulture)))
            .ToList();
    }
}
