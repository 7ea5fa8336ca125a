using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;

namespace Ja4.Modules.HttpIngest;

/// <summary><c>Modules:HttpIngest</c>: the UNIX socket the Apache module (mod_reqin_log) writes to.</summary>
public sealed class HttpIngestOptions
{
    /// <summary>Switches the module on. Default: false when absent.</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// Path of the SOCK_SEQPACKET socket; relative paths are resolved against the working
    /// directory. Must match <c>ReqinLogSocket</c>. Default: <c>/run/ja4/reqin.sock</c>.
    /// </summary>
    [Required]
    public string SocketPath { get; set; } = "/run/ja4/reqin.sock";

    /// <summary>
    /// Group given to the socket (and to its directory when the daemon creates it): the Apache
    /// user's group, which must be able to write to it. Empty: left as the daemon's. Default: <c>www-data</c>.
    /// </summary>
    public string SocketGroup { get; set; } = "www-data";

    /// <summary>Permission bits of the socket, in octal. Default: <c>0660</c>.</summary>
    public string SocketMode { get; set; } = "0660";

    /// <summary>
    /// Largest message accepted, in bytes: one record, or a batch of records (at most 65536
    /// bytes); larger ones are counted as <c>oversized</c> and dropped. Must be at least the
    /// module's <c>ReqinLogMaxRecordBytes</c>. Default: 262144 (the module's maximum).
    /// </summary>
    [Range(65_536, 4_194_304)]
    public int MaxRecordBytes { get; set; } = 262_144;

    /// <summary>Most Apache connections served at once (one per child process); more are refused. Default: 4096.</summary>
    [Range(1, 65_536)]
    public int MaxConnections { get; set; } = 4096;

    /// <summary>At most one log line about invalid records per interval (all are counted). Default: 00:00:10.</summary>
    public TimeSpan InvalidLogInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Compute the header-order signature (<c>HeaderSignature</c>) of each request. Default: true.</summary>
    public bool HeaderSignature { get; set; } = true;

    /// <summary>The socket path made absolute.</summary>
    internal string FullSocketPath => Path.GetFullPath(SocketPath);

    /// <summary>Parses <see cref="SocketMode"/>; null when it is not octal 0–0777.</summary>
    internal static UnixFileMode? ParseMode(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > 4)
        {
            return null;
        }
        var value = 0;
        foreach (var ch in text)
        {
            if (ch is < '0' or > '7')
            {
                return null;
            }
            value = (value * 8) + (ch - '0');
        }
        return value is >= 0 and <= 0b111_111_111 ? (UnixFileMode)value : null;
    }
}

internal sealed class HttpIngestOptionsValidator : IValidateOptions<HttpIngestOptions>
{
    /// <summary>sizeof(sockaddr_un.sun_path) on Linux, including the terminating NUL.</summary>
    private const int SunPathLength = 108;

    public ValidateOptionsResult Validate(string? name, HttpIngestOptions o)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(o.SocketPath))
        {
            errors.Add("Modules:HttpIngest:SocketPath is required");
        }
        else
        {
            string full;
            try
            {
                full = o.FullSocketPath;
                if (Encoding.UTF8.GetByteCount(full) >= SunPathLength)
                {
                    errors.Add(string.Create(CultureInfo.InvariantCulture,
                        $"Modules:HttpIngest:SocketPath '{full}' is longer than a UNIX socket path can be ({SunPathLength - 1} bytes)"));
                }
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
            {
                errors.Add($"Modules:HttpIngest:SocketPath '{o.SocketPath}' is not a valid path");
            }
        }
        if (HttpIngestOptions.ParseMode(o.SocketMode) is null)
        {
            errors.Add($"Modules:HttpIngest:SocketMode '{o.SocketMode}' must be octal permission bits such as 0660");
        }
        if (o.InvalidLogInterval < TimeSpan.Zero)
        {
            errors.Add("Modules:HttpIngest:InvalidLogInterval must not be negative");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
