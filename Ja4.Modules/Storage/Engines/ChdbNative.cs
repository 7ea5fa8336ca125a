using System.Reflection;
using System.Runtime.InteropServices;

namespace Ja4.Modules.Storage.Engines;

/// <summary>
/// P/Invoke declarations of the chDB C API (<c>chdb.h</c> of chDB 26.7). Every handle is an
/// opaque pointer; strings are passed as UTF-8 byte buffers with explicit lengths (the
/// <c>_n</c> variants) so that binary data and NUL bytes are safe.
/// </summary>
internal static unsafe partial class ChdbNative
{
    public const string Library = "chdb";
    public const string FileName = "libchdb.so";

    private static int _resolverInstalled;

    /// <summary>
    /// Finds libchdb.so beside the executable, in <c>JA4_CHDB_LIBRARY</c>, or in a
    /// <c>.cache/chdb/</c> directory of the working directory or any parent (a source checkout).
    /// </summary>
    public static void InstallResolver()
    {
        if (Interlocked.Exchange(ref _resolverInstalled, 1) == 1)
        {
            return;
        }
        NativeLibrary.SetDllImportResolver(typeof(ChdbNative).Assembly, Resolve);
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Library)
        {
            return IntPtr.Zero;
        }
        foreach (var candidate in Candidates())
        {
            if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out var handle))
            {
                return handle;
            }
        }
        throw new DllNotFoundException(
            $"{FileName} not found (looked in: {string.Join(", ", Candidates())}); run scripts/fetch-chdb.sh or set JA4_CHDB_LIBRARY");
    }

    internal static IEnumerable<string> Candidates()
    {
        var env = Environment.GetEnvironmentVariable("JA4_CHDB_LIBRARY");
        if (!string.IsNullOrEmpty(env))
        {
            yield return env;
        }
        yield return Path.Combine(AppContext.BaseDirectory, FileName);
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                yield return Path.Combine(dir.FullName, ".cache", "chdb", FileName);
            }
        }
    }

    [LibraryImport(Library)]
    public static partial void chdb_set_signal_handlers_enabled(int enabled);

    [LibraryImport(Library)]
    public static partial IntPtr chdb_version();

    /// <summary>Returns <c>chdb_connection*</c> (pointer to the handle), or NULL.</summary>
    [LibraryImport(Library)]
    public static partial IntPtr chdb_connect(int argc, IntPtr* argv);

    [LibraryImport(Library)]
    public static partial void chdb_close_conn(IntPtr connPtr);

    [LibraryImport(Library)]
    public static partial IntPtr chdb_query_n(IntPtr conn, byte* query, nuint queryLen, byte* format, nuint formatLen);

    [LibraryImport(Library)]
    public static partial IntPtr chdb_query_with_params_n(IntPtr conn, byte* query, nuint queryLen, byte* format,
        nuint formatLen, byte** names, nuint* nameLens, byte** values, nuint* valueLens, nuint count);

    [LibraryImport(Library)]
    public static partial IntPtr chdb_stream_query_with_params_n(IntPtr conn, byte* query, nuint queryLen, byte* format,
        nuint formatLen, byte** names, nuint* nameLens, byte** values, nuint* valueLens, nuint count);

    [LibraryImport(Library)]
    public static partial IntPtr chdb_stream_fetch_result(IntPtr conn, IntPtr result);

    [LibraryImport(Library)]
    public static partial void chdb_stream_cancel_query(IntPtr conn, IntPtr result);

    [LibraryImport(Library)]
    public static partial void chdb_destroy_query_result(IntPtr result);

    [LibraryImport(Library)]
    public static partial IntPtr chdb_stream_insert_n(IntPtr conn, byte* query, nuint queryLen, byte* format, nuint formatLen);

    [LibraryImport(Library)]
    public static partial int chdb_stream_append(IntPtr stream, byte* data, nuint len);

    [LibraryImport(Library)]
    public static partial IntPtr chdb_stream_done(IntPtr stream);

    [LibraryImport(Library)]
    public static partial IntPtr chdb_stream_insert_error(IntPtr stream);

    [LibraryImport(Library)]
    public static partial void chdb_destroy_insert_stream(IntPtr stream);

    [LibraryImport(Library)]
    public static partial byte* chdb_result_buffer(IntPtr result);

    [LibraryImport(Library)]
    public static partial nuint chdb_result_length(IntPtr result);

    [LibraryImport(Library)]
    public static partial ulong chdb_result_rows_written(IntPtr result);

    [LibraryImport(Library)]
    public static partial IntPtr chdb_result_error(IntPtr result);

    [StructLayout(LayoutKind.Sequential)]
    public struct QueryAnalysis
    {
        public uint StructSize;
        public uint StatementCount;
        public uint Flags;
        public uint QueryClass;
    }

    [LibraryImport(Library)]
    public static partial int chdb_classify_query_n(IntPtr conn, byte* sql, nuint sqlLen, byte* targetDb, nuint targetDbLen,
        QueryAnalysis* analysis);
}
