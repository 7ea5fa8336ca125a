using System.Net.Sockets;
using Ja4.Modules.Storage;
using Ja4.Modules.Storage.Admin;
using Ja4.Modules.Storage.Engines;

namespace Ja4.Host.Commands;

/// <summary><c>ja4 sql "QUERY"</c>: one read-only query against the configured store.</summary>
public sealed class SqlCommand : ICommand
{
    public string Name => "sql";
    public string Summary => "run one read-only SQL query against the store";
    public string Help => """
        Usage: ja4 sql "QUERY" [--format table|tsv|jsonl] [--config FILE]

        Runs one read-only ClickHouse query (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN,
        EXISTS) against the store configured under Modules:Storage and prints the
        result. Writes, DDL and settings changes are refused.

        With the embedded store (Engine=Chdb) the query goes through the running
        daemon's admin socket (Modules:Storage:AdminSocketPath, readable by root and
        the ja4 group); when no daemon is running, the store is opened directly.
        With Engine=ClickHouse the query goes to the server, with readonly=2.

        Options:
          --format F      table (default), tsv (with a header line) or jsonl
          --config FILE   configuration file (default: appsettings.json beside the executable)

        Example: ja4 sql "SELECT ja4, count() FROM ja4.http_logs GROUP BY ja4 ORDER BY 2 DESC LIMIT 10"

        """;

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var reader = new ArgReader(args, ["--config", "--format"], []);
        if (reader.Positionals.Count != 1)
        {
            throw new UsageException(reader.Positionals.Count == 0 ? "a query is required" : "give the query as one argument (quote it)");
        }
        var sql = reader.Positionals[0];
        var format = reader.Value("--format") ?? "table";
        string engineFormat;
        try
        {
            engineFormat = SqlGuard.EngineFormat(format);
        }
        catch (ArgumentException)
        {
            throw new UsageException($"unknown format '{format}' (table, tsv, jsonl)");
        }
        var options = StorageCommandSupport.LoadOptions(reader.Value("--config"));
        await using var stdout = new TextWriterStream(Console.Out);
        try
        {
            if (options.Engine == StorageEngineKind.Chdb && File.Exists(options.AdminSocketPath))
            {
                try
                {
                    await AdminSocketServer.QueryAsync(options.AdminSocketPath, format, sql, stdout, cancellationToken);
                    return Cli.Ok;
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
                {
                    // A socket file left by a daemon that is gone: open the store directly.
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
                {
                    throw new CommandFailedException($"no permission to use the daemon's admin socket {options.AdminSocketPath} (root or the {options.AdminSocketGroup} group)");
                }
            }
            await using var store = StorageCommandSupport.Open(options, readOnly: true);
            var refusal = await SqlGuard.CheckAsync(store, sql, cancellationToken);
            if (refusal is not null)
            {
                throw new CommandFailedException("refused: " + refusal);
            }
            await store.StreamAsync(sql, null, engineFormat,
                async (chunk, ct) => await stdout.WriteAsync(chunk, ct), cancellationToken);
            return Cli.Ok;
        }
        catch (StoreException e)
        {
            throw new CommandFailedException(e.Message.StartsWith(SqlGuard.Refusal, StringComparison.Ordinal) ? "refused: " + e.Message : e.Message);
        }
        finally
        {
            await stdout.FlushAsync(cancellationToken);
        }
    }

    /// <summary>UTF-8 bytes out to a <see cref="TextWriter"/> (whatever Console.Out is), split characters included.</summary>
    private sealed class TextWriterStream(TextWriter writer) : Stream
    {
        private readonly System.Text.Decoder _decoder = System.Text.Encoding.UTF8.GetDecoder();

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            var chars = new char[_decoder.GetCharCount(buffer, flush: false)];
            var n = _decoder.GetChars(buffer, chars, flush: false);
            writer.Write(chars, 0, n);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override void Flush() => writer.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
