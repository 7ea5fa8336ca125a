using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Ja4.Tests.EndToEnd;

/// <summary>What a private Apache instance loads and how it is configured.</summary>
public sealed record ApacheOptions
{
    /// <summary><c>event</c>, <c>worker</c> or <c>prefork</c>.</summary>
    public string Mpm { get; init; } = "event";

    /// <summary>Load mod_reqin_log (built from native/mod_reqin_log) with <c>ReqinLog On</c>.</summary>
    public bool ReqinLog { get; init; } = true;

    /// <summary>Socket the module writes to; default <c>&lt;root&gt;/sock/reqin.sock</c>.</summary>
    public string? SocketPath { get; init; }

    /// <summary><c>ReqinLogStatsInterval</c> (seconds).</summary>
    public int StatsInterval { get; init; } = 1;

    /// <summary><c>LogLevel</c>.</summary>
    public string LogLevel { get; init; } = "warn reqin_log:info";

    /// <summary>Extra lines at server level (after the defaults, before the virtual hosts).</summary>
    public string ServerDirectives { get; init; } = "";

    /// <summary>Extra lines inside both the HTTP and the HTTPS virtual host.</summary>
    public string VirtualHostDirectives { get; init; } = "";

    /// <summary>Further plain-HTTP virtual hosts, each on its own port: the lines inside each.</summary>
    public IReadOnlyList<string> ExtraVirtualHosts { get; init; } = [];

    /// <summary>
    /// Load a module (mod_ssl, mod_http2, ...) only when true: a bench compares Apache with and
    /// without mod_reqin_log, everything else equal.
    /// </summary>
    public bool Tls { get; init; } = true;
}

/// <summary>
/// A private Apache httpd (Debian <c>apache2</c>) for tests: its own ServerRoot in a temporary
/// directory, its own configuration (no <c>${APACHE_*}</c> variables), free loopback ports
/// chosen at start, a generated self-signed certificate, mod_ssl and mod_http2 on the HTTPS
/// port, mod_status at <c>/server-status</c>, and the real mod_reqin_log. Children run as
/// www-data; the tests run as root. Stopped (and its directory removed) on dispose.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ApacheFixture : IAsyncDisposable, IDisposable
{
    public const string RunUser = "www-data";
    public const string RunGroup = "www-data";

    private static readonly ConcurrentDictionary<ApacheFixture, byte> Running = new();
    private static readonly Lazy<(string Cert, string Key)> Certificate = new(CreateCertificate);
    private static readonly Lock BuildLock = new();
    private static string? _modulePath;
    private bool _stopped;

    static ApacheFixture()
    {
        // Never leave an Apache behind, whatever happens to the test run.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var f in Running.Keys)
            {
                f.Stop();
            }
        };
    }

    private ApacheFixture(ApacheOptions options, string root)
    {
        Options = options;
        Root = root;
        SocketPath = options.SocketPath ?? Path.Combine(root, "sock", "reqin.sock");
    }

    public ApacheOptions Options { get; }

    /// <summary>The instance's ServerRoot (temporary, removed on dispose).</summary>
    public string Root { get; }

    public string DocumentRoot => Path.Combine(Root, "htdocs");
    public string ConfigPath => Path.Combine(Root, "httpd.conf");
    public string ErrorLogPath => Path.Combine(Root, "logs", "error.log");
    public string PidFile => Path.Combine(Root, "run", "httpd.pid");

    /// <summary>Where mod_reqin_log sends records (a daemon under test listens here).</summary>
    public string SocketPath { get; }

    public IPAddress Address => IPAddress.Loopback;
    public int HttpPort { get; private set; }
    public int HttpsPort { get; private set; }

    /// <summary>Ports of <see cref="ApacheOptions.ExtraVirtualHosts"/>, in order.</summary>
    public IReadOnlyList<int> ExtraPorts { get; private set; } = [];

    /// <summary>PID of the parent process.</summary>
    public int Pid { get; private set; }

    public Uri HttpUrl(string path = "/index.html") => new($"http://127.0.0.1:{HttpPort}{path}");
    public Uri HttpsUrl(string path = "/index.html") => new($"https://localhost:{HttpsPort}{path}");

    /// <summary>Starts an instance; retries with other ports if one was taken meanwhile.</summary>
    public static async Task<ApacheFixture> StartAsync(ApacheOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new ApacheOptions();
        EnsureApacheInstalled();
        for (var attempt = 1; ; attempt++)
        {
            var root = Directory.CreateTempSubdirectory("ja4-apache-").FullName;
            var f = new ApacheFixture(options, root);
            try
            {
                await f.StartCoreAsync(cancellationToken);
                return f;
            }
            catch (ApacheStartException e) when (attempt < 3 && e.Message.Contains("could not bind", StringComparison.OrdinalIgnoreCase))
            {
                f.Dispose();
            }
            catch
            {
                f.Dispose();
                throw;
            }
        }
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        foreach (var d in new[] { "htdocs", "logs", "run" })
        {
            Directory.CreateDirectory(Path.Combine(Root, d));
        }
        // www-data must reach the document root and the socket directory.
        File.SetUnixFileMode(Root, (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(DocumentRoot, (UnixFileMode)0b111_101_101);
        await File.WriteAllTextAsync(Path.Combine(DocumentRoot, "index.html"), "<html><body>ja4 test page</body></html>\n", cancellationToken);
        File.SetUnixFileMode(Path.Combine(DocumentRoot, "index.html"), (UnixFileMode)0b110_100_100);

        var ports = FreePorts(2 + Options.ExtraVirtualHosts.Count);
        HttpPort = ports[0];
        HttpsPort = ports[1];
        ExtraPorts = ports[2..];
        await File.WriteAllTextAsync(ConfigPath, RenderConfig(), cancellationToken);

        var (code, output) = await RunAsync(ApacheBinary, ["-f", ConfigPath, "-k", "start"], cancellationToken);
        if (code != 0)
        {
            throw new ApacheStartException($"apache2 -k start failed ({code}): {output}\n{ReadErrorLog()}");
        }
        Running[this] = 0;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            if (File.Exists(PidFile) && int.TryParse((await File.ReadAllTextAsync(PidFile, cancellationToken)).Trim(), out var pid)
                && await AcceptsAsync(HttpPort) && (!Options.Tls || await AcceptsAsync(HttpsPort)))
            {
                Pid = pid;
                return;
            }
            var log = ReadErrorLog();
            if (log.Contains("could not bind", StringComparison.OrdinalIgnoreCase) || log.Contains("AH00016", StringComparison.Ordinal))
            {
                throw new ApacheStartException(log);
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new ApacheStartException($"Apache did not start within 20 s:\n{log}");
            }
            await Task.Delay(50, cancellationToken);
        }
    }

    private string RenderConfig()
    {
        var mods = ModulesDirectory;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"""
            # Generated by ApacheFixture: a private test instance.
            ServerRoot "{Root}"
            ServerName localhost
            PidFile "{PidFile}"
            DefaultRuntimeDir "{Root}/run"
            ErrorLog "{ErrorLogPath}"
            LogLevel {Options.LogLevel}
            User {RunUser}
            Group {RunGroup}
            LoadModule mpm_{Options.Mpm}_module {mods}/mod_mpm_{Options.Mpm}.so
            LoadModule authz_core_module {mods}/mod_authz_core.so
            LoadModule status_module {mods}/mod_status.so

            """);
        if (Options.Tls)
        {
            sb.Append(CultureInfo.InvariantCulture, $"""
                LoadModule socache_shmcb_module {mods}/mod_socache_shmcb.so
                LoadModule ssl_module {mods}/mod_ssl.so
                LoadModule http2_module {mods}/mod_http2.so
                SSLSessionCache "shmcb:{Root}/run/ssl_scache(512000)"

                """);
        }
        if (Options.ReqinLog)
        {
            sb.Append(CultureInfo.InvariantCulture, $"""
                LoadModule reqin_log_module {ModulePath}
                ReqinLog On
                ReqinLogSocket {SocketPath}
                ReqinLogStatsInterval {Options.StatsInterval}

                """);
        }
        sb.Append(CultureInfo.InvariantCulture, $"""
            Listen 127.0.0.1:{HttpPort}

            """);
        if (Options.Tls)
        {
            sb.Append(CultureInfo.InvariantCulture, $"Listen 127.0.0.1:{HttpsPort}\n");
        }
        foreach (var p in ExtraPorts)
        {
            sb.Append(CultureInfo.InvariantCulture, $"Listen 127.0.0.1:{p}\n");
        }
        // A fixed set of children: Apache never reaps an idle one, which would close the
        // tests' keep-alive connections (and reset the module's per-child state) mid-test.
        sb.Append(Options.Mpm == "prefork"
            ? "StartServers 4\nMinSpareServers 1\nMaxSpareServers 16\nMaxRequestWorkers 16\n"
            : "StartServers 2\nServerLimit 2\nThreadsPerChild 16\nMaxRequestWorkers 32\nMinSpareThreads 1\nMaxSpareThreads 64\n");
        sb.Append(CultureInfo.InvariantCulture, $"""
            KeepAlive On
            MaxKeepAliveRequests 0
            KeepAliveTimeout 15
            DocumentRoot "{DocumentRoot}"
            <Directory "{DocumentRoot}">
                Require all granted
            </Directory>
            <Location /server-status>
                SetHandler server-status
            </Location>
            {Options.ServerDirectives}
            <VirtualHost 127.0.0.1:{HttpPort}>
                ServerName localhost
                {Options.VirtualHostDirectives}
            </VirtualHost>

            """);
        if (Options.Tls)
        {
            var (cert, key) = Certificate.Value;
            sb.Append(CultureInfo.InvariantCulture, $"""
                <VirtualHost 127.0.0.1:{HttpsPort}>
                    ServerName localhost
                    SSLEngine on
                    SSLCertificateFile "{cert}"
                    SSLCertificateKeyFile "{key}"
                    Protocols h2 http/1.1
                    {Options.VirtualHostDirectives}
                </VirtualHost>

                """);
        }
        for (var i = 0; i < ExtraPorts.Count; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"""
                <VirtualHost 127.0.0.1:{ExtraPorts[i]}>
                    ServerName extra{i}.localhost
                    {Options.ExtraVirtualHosts[i]}
                </VirtualHost>

                """);
        }
        return sb.ToString();
    }

    /// <summary>The error log so far (empty if none).</summary>
    public string ReadErrorLog()
    {
        try
        {
            using var s = new FileStream(ErrorLogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var r = new StreamReader(s);
            return r.ReadToEnd();
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>
    /// <c>/server-status?auto</c> as key/value pairs (the <c>ReqinLog*</c> counters among them).
    /// The status request is itself logged by the module.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, string>> ReadStatusAsync(CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var text = await http.GetStringAsync(HttpUrl("/server-status?auto"), cancellationToken);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                result[line[..colon].Trim()] = line[(colon + 1)..].Trim();
            }
        }
        return result;
    }

    /// <summary>A <c>ReqinLog*</c> counter from mod_status (e.g. <c>ReqinLogDropped</c>).</summary>
    public async Task<long> ReadCounterAsync(string name, CancellationToken cancellationToken = default)
    {
        var status = await ReadStatusAsync(cancellationToken);
        return status.TryGetValue(name, out var v) ? long.Parse(v, CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"server-status has no {name}: {string.Join(", ", status.Keys)}");
    }

    /// <summary>Stops the instance (<c>-k stop</c>, then SIGKILL to its process group if it lingers).</summary>
    public void Stop()
    {
        if (_stopped)
        {
            return;
        }
        _stopped = true;
        Running.TryRemove(this, out _);
        if (Pid <= 0 && File.Exists(PidFile) && int.TryParse(File.ReadAllText(PidFile).Trim(), out var pid))
        {
            Pid = pid;
        }
        try
        {
            RunAsync(ApacheBinary, ["-f", ConfigPath, "-k", "stop"], CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (Exception)
        {
            // fall through to the kill below
        }
        if (Pid > 0)
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (Directory.Exists($"/proc/{Pid}") && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(25);
            }
            if (Directory.Exists($"/proc/{Pid}"))
            {
                _ = Kill(-Pid, 9);  // the daemonized parent leads its own process group
                _ = Kill(Pid, 9);
            }
        }
    }

    public void Dispose()
    {
        Stop();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    // ------------------------------------------------------------------ environment

    public static string ApacheBinary =>
        File.Exists("/usr/sbin/apache2") ? "/usr/sbin/apache2" : File.Exists("/usr/sbin/httpd") ? "/usr/sbin/httpd" : "apache2";

    public static string ModulesDirectory =>
        Directory.Exists("/usr/lib/apache2/modules") ? "/usr/lib/apache2/modules" : "/usr/lib64/httpd/modules";

    /// <summary>The repository root (the directory holding ja4.sln).</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            {
                if (File.Exists(Path.Combine(d.FullName, "ja4.sln")))
                {
                    return d.FullName;
                }
            }
            throw new InvalidOperationException("cannot find the repository root (ja4.sln) above " + AppContext.BaseDirectory);
        }
    }

    public static string NativeDirectory => Path.Combine(RepositoryRoot, "native", "mod_reqin_log");

    /// <summary>mod_reqin_log.so, built with <c>make -C native/mod_reqin_log</c> (once per test run).</summary>
    public static string ModulePath
    {
        get
        {
            lock (BuildLock)
            {
                if (_modulePath is null)
                {
                    var (code, output) = RunAsync("make", ["-s", "-C", NativeDirectory], CancellationToken.None).GetAwaiter().GetResult();
                    if (code != 0)
                    {
                        throw new InvalidOperationException($"make -C native/mod_reqin_log failed ({code}): {output}");
                    }
                    _modulePath = Path.Combine(NativeDirectory, ".libs", "mod_reqin_log.so");
                }
                return _modulePath;
            }
        }
    }

    /// <summary><c>apache2 -t</c> on a configuration text (for directive validation tests).</summary>
    public static async Task<(int ExitCode, string Output)> ConfigTestAsync(string serverDirectives)
    {
        EnsureApacheInstalled();
        var root = Directory.CreateTempSubdirectory("ja4-apache-t-").FullName;
        try
        {
            var conf = Path.Combine(root, "httpd.conf");
            await File.WriteAllTextAsync(conf, $"""
                ServerRoot "{root}"
                ServerName localhost
                PidFile "{root}/httpd.pid"
                ErrorLog "{root}/error.log"
                LoadModule mpm_event_module {ModulesDirectory}/mod_mpm_event.so
                LoadModule reqin_log_module {ModulePath}
                Listen 127.0.0.1:1
                {serverDirectives}
                """);
            return await RunAsync(ApacheBinary, ["-t", "-f", conf], CancellationToken.None);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static void EnsureApacheInstalled()
    {
        if (!File.Exists(ApacheBinary) || !Directory.Exists(ModulesDirectory))
        {
            throw new InvalidOperationException("Apache httpd is not installed: run scripts/install-deps.sh test (apache2 apache2-dev)");
        }
    }

    /// <summary>Distinct free loopback TCP ports (bound then released: a small race, retried by StartAsync).</summary>
    public static int[] FreePorts(int count)
    {
        var listeners = new List<TcpListener>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var l = new TcpListener(IPAddress.Loopback, 0);
                l.Start();
                listeners.Add(l);
            }
            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            foreach (var l in listeners)
            {
                l.Stop();
            }
        }
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        try
        {
            using var c = new TcpClient();
            await c.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static (string Cert, string Key) CreateCertificate()
    {
        var dir = Directory.CreateTempSubdirectory("ja4-apache-cert-").FullName;
        File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
        var cert = Path.Combine(dir, "cert.pem");
        var key = Path.Combine(dir, "key.pem");
        var (code, output) = RunAsync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", key, "-out", cert, "-days", "7", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:FALSE"],
            CancellationToken.None).GetAwaiter().GetResult();
        if (code != 0)
        {
            throw new InvalidOperationException($"openssl req -x509 failed ({code}): {output}");
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        return (cert, key);
    }

    /// <summary>Runs a program to completion; returns its exit code and stdout+stderr.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string file, IEnumerable<string> args, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = p.StandardError.ReadToEndAsync(cancellationToken);
        await p.WaitForExitAsync(cancellationToken);
        return (p.ExitCode, (await stdout) + (await stderr));
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}

public sealed class ApacheStartException(string message) : Exception(message);
