using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Extensions.Logging;

namespace Ja4.Modules.HttpIngest;

/// <summary>
/// Reads every Apache connection on one dedicated thread.
/// <para>
/// Why not async reads: a record costs Apache one <c>send()</c>, and most of that cost is waking a
/// reader that sleeps on the socket (measured: ~13 µs of Apache CPU per record with an
/// epoll-waiting reader, ~1 µs without). So while records flow, this reader never sleeps on the
/// sockets: it drains every connection without blocking, sleeps about
/// <see cref="BusyInterval"/>, and drains again, which batches a millisecond of records per
/// wake-up and leaves nobody on the sockets' wait queues for Apache to wake. After
/// <see cref="IdleRounds"/> empty rounds it blocks in <c>poll()</c> on all of them (and on an
/// eventfd that signals a new connection or the stop), which costs one wake-up when traffic
/// resumes. The accepted sockets are never used with async operations, so they are never
/// registered with the runtime's epoll either.
/// </para>
/// <para>
/// Since the module batches (one message per ~64 KiB or per flush interval), messages arrive tens
/// of milliseconds apart even on a busy server: waiting for the next one in <c>poll()</c> costs a
/// sender one wake-up per batch, while sleeping through the gap a millisecond at a time cost this
/// thread a wake-up per millisecond. So it blocks after two empty rounds.
/// </para>
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed partial class ReqinReader
{
    /// <summary>Sleep between rounds while records flow: the added latency, at most about this.</summary>
    internal static readonly TimeSpan BusyInterval = TimeSpan.FromMilliseconds(1);

    /// <summary>Empty rounds before blocking in poll().</summary>
    internal const int IdleRounds = 2;

    /// <summary>Messages read from one connection per round, so one busy child cannot starve the others.</summary>
    private const int DrainBatch = 4096;

    private readonly int _maxRecord;
    private readonly ReqinRecordParser _parser;
    private readonly RecordHandler _handle;
    private readonly HttpIngestMetrics _metrics;
    private readonly ILogger _log;
    private readonly ConcurrentQueue<Socket> _incoming = new();
    private readonly List<Socket> _connections = [];
    private readonly int _wakeFd;
    private readonly Thread _thread;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _stopping;

    public delegate void RecordHandler(ReadOnlySpan<byte> record, ReqinRecordParser parser);

    public ReqinReader(int maxRecord, ReqinRecordParser parser, RecordHandler handle, HttpIngestMetrics metrics, ILogger log)
    {
        _maxRecord = maxRecord;
        _parser = parser;
        _handle = handle;
        _metrics = metrics;
        _log = log;
        _wakeFd = EventFd(0, EfdNonBlock | EfdCloexec);
        if (_wakeFd < 0)
        {
            throw new InvalidOperationException("eventfd failed: " + Marshal.GetLastPInvokeErrorMessage());
        }
        _thread = new Thread(Run) { IsBackground = true, Name = "ja4 reqin reader" };
        _thread.Start();
    }

    /// <summary>Hands an accepted connection to the reader thread.</summary>
    public void Add(Socket socket)
    {
        socket.Blocking = false;
        _incoming.Enqueue(socket);
        Wake();
    }

    /// <summary>Stops after a last drain of every connection; closes them all.</summary>
    public Task StopAsync()
    {
        _stopping = true;
        Wake();
        return _stopped.Task;
    }

    private void Wake()
    {
        ulong one = 1;
        _ = Write(_wakeFd, ref one, sizeof(ulong));
    }

    private void Run()
    {
        var buffer = GC.AllocateUninitializedArray<byte>(_maxRecord + 1);
        var idle = 0;
        try
        {
            while (true)
            {
                var stopping = _stopping;
                while (_incoming.TryDequeue(out var s))
                {
                    _connections.Add(s);
                }
                var any = DrainAll(buffer);
                if (stopping)
                {
                    break;
                }
                if (any)
                {
                    idle = 0;
                    Thread.Sleep(BusyInterval);
                }
                else if (++idle < IdleRounds)
                {
                    Thread.Sleep(BusyInterval);
                }
                else
                {
                    WaitForData();
                }
            }
        }
        catch (Exception e)
        {
            HttpIngestLog.ReaderFailed(_log, e);
        }
        finally
        {
            foreach (var s in _connections)
            {
                Close(s);
            }
            _connections.Clear();
            while (_incoming.TryDequeue(out var s))
            {
                Close(s);
            }
            _ = CloseFd(_wakeFd);
            _stopped.TrySetResult();
        }
    }

    /// <summary>One round over every connection. True when anything was read.</summary>
    private bool DrainAll(byte[] buffer)
    {
        var any = false;
        var window = buffer.AsSpan(0, _maxRecord + 1);
        for (var i = _connections.Count - 1; i >= 0; i--)
        {
            var s = _connections[i];
            var open = true;
            for (var n = 0; n < DrainBatch; n++)
            {
                var length = s.Receive(window, SocketFlags.None, out var error);
                if (error == SocketError.WouldBlock)
                {
                    break;
                }
                if (error != SocketError.Success || length == 0)
                {
                    // End of stream (or an empty message, which the module never sends), or an error.
                    HttpIngestLog.ConnectionEnded(_log, error == SocketError.Success ? "closed by Apache" : error.ToString());
                    open = false;
                    break;
                }
                any = true;
                _handle(window[..length], _parser);
            }
            if (!open)
            {
                Close(s);
                _connections.RemoveAt(i);
            }
        }
        return any;
    }

    /// <summary>Blocks in poll() until a connection is readable, one is added, or the stop.</summary>
    private unsafe void WaitForData()
    {
        var fds = new PollFd[_connections.Count + 1];
        fds[0] = new PollFd { Fd = _wakeFd, Events = PollIn };
        for (var i = 0; i < _connections.Count; i++)
        {
            fds[i + 1] = new PollFd { Fd = (int)_connections[i].SafeHandle.DangerousGetHandle(), Events = PollIn };
        }
        fixed (PollFd* p = fds)
        {
            _ = Poll(p, (nuint)fds.Length, 1000);
        }
        if (fds[0].Revents != 0)
        {
            ulong value;
            _ = Read(_wakeFd, out value, sizeof(ulong));
        }
    }

    private void Close(Socket s)
    {
        s.Dispose();
        Interlocked.Decrement(ref _metrics.OpenConnections);
    }

    private const int EfdNonBlock = 0x800;
    private const int EfdCloexec = 0x80000;
    private const short PollIn = 0x1;

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    private static partial int EventFd(uint initval, int flags);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static unsafe partial int Poll(PollFd* fds, nuint nfds, int timeout);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint Write(int fd, ref ulong value, nuint count);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint Read(int fd, out ulong value, nuint count);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int CloseFd(int fd);
}
