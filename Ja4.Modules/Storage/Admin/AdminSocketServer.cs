using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Ja4.Modules.Storage.Engines;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ja4.Modules.Storage.Admin;

/// <summary>
/// The daemon's local admin endpoint for <c>ja4 sql</c> while the daemon holds the embedded
/// store (chDB allows one process per data path). A UNIX stream socket, mode 0660, group
/// <c>AdminSocketGroup</c>. Protocol: the client sends one line with the format
/// (<c>table</c>|<c>tsv</c>|<c>jsonl</c>), then the SQL, then shuts down its side; the server answers
/// <c>OK\n</c> and the output, or <c>ERR message\n</c>.
/// </summary>
public sealed class AdminSocketServer(StorageStore store, StorageOptions options, ILogger logger) : BackgroundService
{
    private const int MaxRequestBytes = 1 << 20;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Engine != StorageEngineKind.Chdb || string.IsNullOrWhiteSpace(options.AdminSocketPath))
        {
            return;
        }
        var path = Path.GetFullPath(options.AdminSocketPath);
        Socket listener;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            if (File.Exists(path))
            {
                File.Delete(path);
            }
            // Bound under a temporary name, given its mode and group, then renamed into place:
            // the socket never appears with the umask's permissions.
            var temporary = path + ".new";
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
            listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(temporary));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
            }
            SetGroup(temporary, options.AdminSocketGroup);
            listener.Listen(16);
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or SocketException or UnauthorizedAccessException)
        {
            StorageLog.AdminSocketError(logger, path, e.Message);
            return;
        }
        using (listener)
        {
            try
            {
                while (!stoppingToken.IsCancellationRequested)
                {
                    var client = await listener.AcceptAsync(stoppingToken).ConfigureAwait(false);
                    // One query at a time: the engine serialises them anyway.
                    await ServeAsync(client, stoppingToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                try
                {
                    File.Delete(path);
                }
                catch (IOException)
                {
                }
            }
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken token)
    {
        using var _ = client;
        await using var stream = new NetworkStream(client, ownsSocket: false);
        try
        {
            using var request = new MemoryStream();
            var buffer = new byte[8192];
            int n;
            while ((n = await stream.ReadAsync(buffer, token).ConfigureAwait(false)) > 0)
            {
                request.Write(buffer, 0, n);
                if (request.Length > MaxRequestBytes)
                {
                    await ReplyErrorAsync(stream, "query longer than 1 MiB", token).ConfigureAwait(false);
                    return;
                }
            }
            var text = Encoding.UTF8.GetString(request.ToArray());
            var nl = text.IndexOf('\n');
            if (nl < 0)
            {
                await ReplyErrorAsync(stream, "bad request", token).ConfigureAwait(false);
                return;
            }
            var format = text[..nl].Trim();
            var sql = text[(nl + 1)..];
            string engineFormat;
            try
            {
                engineFormat = SqlGuard.EngineFormat(format);
            }
            catch (ArgumentException e)
            {
                await ReplyErrorAsync(stream, e.Message, token).ConfigureAwait(false);
                return;
            }
            var refusal = await SqlGuard.CheckAsync(store.ReadOnly, sql, token).ConfigureAwait(false);
            if (refusal is not null)
            {
                await ReplyErrorAsync(stream, refusal, token).ConfigureAwait(false);
                return;
            }
            // "OK" only once the engine produced output (or finished): an error before that is reported as ERR.
            var started = false;
            await store.ReadOnly.StreamAsync(sql, null, engineFormat, async (chunk, ct) =>
            {
                if (!started)
                {
                    started = true;
                    await stream.WriteAsync("OK\n"u8.ToArray(), ct).ConfigureAwait(false);
                }
                await stream.WriteAsync(chunk, ct).ConfigureAwait(false);
            }, token).ConfigureAwait(false);
            if (!started)
            {
                await stream.WriteAsync("OK\n"u8.ToArray(), token).ConfigureAwait(false);
            }
        }
        catch (StoreException e)
        {
            await ReplyErrorAsync(stream, e.Message, token).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The client went away.
        }
    }

    private static async Task ReplyErrorAsync(Stream stream, string message, CancellationToken token)
    {
        try
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes("ERR " + message.ReplaceLineEndings(" ") + "\n"), token).ConfigureAwait(false);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Gives the socket to a group (from /etc/group) when it exists.</summary>
    private static void SetGroup(string path, string group)
    {
        if (string.IsNullOrEmpty(group) || !File.Exists("/etc/group"))
        {
            return;
        }
        foreach (var line in File.ReadLines("/etc/group"))
        {
            var f = line.Split(':');
            if (f.Length >= 3 && f[0] == group && uint.TryParse(f[2], out var gid))
            {
                _ = Chown(path, uint.MaxValue, gid);
                return;
            }
        }
    }

    [DllImport("libc", EntryPoint = "chown", SetLastError = true)]
    private static extern int Chown([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint owner, uint group);

    /// <summary>Client side: sends one query to the daemon's socket and copies the answer to <paramref name="output"/>.</summary>
    /// <exception cref="StoreException">The daemon refused the query or the engine reported an error.</exception>
    public static async Task QueryAsync(string socketPath, string format, string sql, Stream output, CancellationToken token)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), token).ConfigureAwait(false);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await stream.WriteAsync(Encoding.UTF8.GetBytes(format + "\n" + sql), token).ConfigureAwait(false);
        socket.Shutdown(SocketShutdown.Send);
        var head = new List<byte>();
        int b;
        var one = new byte[1];
        while ((b = await stream.ReadAsync(one, token).ConfigureAwait(false)) > 0 && one[0] != '\n')
        {
            head.Add(one[0]);
        }
        var status = Encoding.UTF8.GetString(head.ToArray());
        if (status != "OK")
        {
            throw StoreException.FromEngineMessage(status.StartsWith("ERR ", StringComparison.Ordinal) ? status[4..] : "the daemon closed the admin socket");
        }
        await stream.CopyToAsync(output, token).ConfigureAwait(false);
    }
}
