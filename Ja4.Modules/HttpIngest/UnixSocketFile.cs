using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Ja4.Modules.HttpIngest;

/// <summary>
/// Creates the listening SOCK_SEQPACKET socket file for the Apache user: in a directory the group
/// can enter, with the configured group and mode, replacing a stale file left by a previous run.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static partial class UnixSocketFile
{
    /// <summary>What <see cref="Bind"/> did, for the log.</summary>
    internal sealed record BindResult(Socket Socket, bool ReplacedStale, bool CreatedDirectory, string? Warning);

    /// <summary>
    /// Binds and listens. Throws <see cref="InvalidOperationException"/> with a one-line reason
    /// when another process listens on the path or the path is not a socket.
    /// </summary>
    public static BindResult Bind(string path, string? group, UnixFileMode mode, int backlog)
    {
        string? warning = null;
        var gid = -1;
        if (!string.IsNullOrWhiteSpace(group))
        {
            gid = ResolveGroup(group);
            if (gid < 0)
            {
                warning = $"group '{group}' does not exist; the socket keeps the daemon's group";
            }
        }

        var dir = Path.GetDirectoryName(path)!;
        var createdDirectory = false;
        if (!Directory.Exists(dir))
        {
            // rwxr-s---: the group (Apache) may enter, nobody else; setgid so files inherit the group.
            Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
            createdDirectory = true;
            if (gid >= 0 && Chown(dir, -1, gid) == 0)
            {
                File.SetUnixFileMode(dir, File.GetUnixFileMode(dir) | UnixFileMode.SetGroup);
            }
        }
        else if (gid >= 0 && Stat(dir, out var d) == 0 && !Reachable(d, gid))
        {
            // A private directory of ours that Apache cannot enter, e.g. systemd's RuntimeDirectory
            // (ja4:ja4 2750): hand its group to Apache's. A directory others may enter, or one that
            // is not ours, is never changed.
            if (d.Uid != GetEUid() || Chown(dir, -1, gid) != 0 || Stat(dir, out d) != 0 || !Reachable(d, gid))
            {
                warning ??= $"the group '{group}' cannot enter {dir}; Apache will get 'permission denied' " +
                            "(give the directory to that group, mode 2750)";
            }
        }

        var replaced = false;
        if (Exists(path))
        {
            if (!IsSocket(path))
            {
                throw new InvalidOperationException($"{path} exists and is not a socket; remove it or choose another Modules:HttpIngest:SocketPath");
            }
            if (SomeoneListens(path))
            {
                throw new InvalidOperationException($"another process is listening on {path} (is another ja4 daemon running?)");
            }
            File.Delete(path);
            replaced = true;
        }

        var socket = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            if (gid >= 0 && Chown(path, -1, gid) != 0)
            {
                warning ??= $"cannot give {path} to group '{group}' ({Marshal.GetLastPInvokeErrorMessage()}); Apache may get 'permission denied'";
            }
            File.SetUnixFileMode(path, mode);
            socket.Listen(backlog);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new BindResult(socket, replaced, createdDirectory, warning);
    }

    /// <summary>Removes the socket file if it is (still) a socket.</summary>
    public static void Remove(string path)
    {
        try
        {
            if (IsSocket(path))
            {
                File.Delete(path);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    internal static bool IsSocket(string path) => Lstat(path, out var st) == 0 && (st.Mode & 0xF000) == 0xC000; // S_IFSOCK

    private static bool Exists(string path) => Lstat(path, out _) == 0;

    /// <summary>Members of <paramref name="gid"/> may traverse the directory (others may, or it is the group's with g+x).</summary>
    private static bool Reachable(StatInfo d, int gid) =>
        (d.Mode & 0b000_000_001) != 0 || (d.Gid == (uint)gid && (d.Mode & 0b000_001_000) != 0);

    private static bool SomeoneListens(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable
                                             or SocketError.ProtocolType or SocketError.ProtocolNotSupported)
        {
            // Refused: stale. Wrong type (EPROTOTYPE): a stream/datagram socket of someone else,
            // but nobody can be listening for us there either; treat as stale.
            return false;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>A group name or a numeric id; -1 when unknown.</summary>
    internal static int ResolveGroup(string group)
    {
        if (int.TryParse(group, out var numeric) && numeric >= 0)
        {
            return numeric;
        }
        var p = GetGrNam(group);
        // struct group { char *gr_name; char *gr_passwd; gid_t gr_gid; char **gr_mem; }
        return p == IntPtr.Zero ? -1 : Marshal.ReadInt32(p, 2 * IntPtr.Size);
    }

    [LibraryImport("libc", EntryPoint = "getgrnam", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetGrNam(string name);

    [LibraryImport("libc", EntryPoint = "chown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Chown(string path, int owner, int group);

    internal readonly record struct StatInfo(uint Uid, uint Gid, uint Mode);

    private static int Lstat(string path, out StatInfo info) => StatCore(path, 0x100 /* AT_SYMLINK_NOFOLLOW */, out info);

    private static int Stat(string path, out StatInfo info) => StatCore(path, 0, out info);

    private static int StatCore(string path, int flags, out StatInfo info)
    {
        // statx(AT_FDCWD, path, flags, STATX_TYPE|STATX_MODE|STATX_UID|STATX_GID, buf):
        // stx_uid u32 at 0x14, stx_gid u32 at 0x18, stx_mode u16 at 0x1C.
        Span<byte> buf = stackalloc byte[256];
        var rc = Statx(-100, path, flags, 0x1 | 0x2 | 0x8 | 0x10, ref MemoryMarshal.GetReference(buf));
        info = rc == 0
            ? new StatInfo(BitConverter.ToUInt32(buf[0x14..]), BitConverter.ToUInt32(buf[0x18..]), BitConverter.ToUInt16(buf[0x1C..]))
            : default;
        return rc;
    }

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEUid();

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, ref byte statxbuf);
}
