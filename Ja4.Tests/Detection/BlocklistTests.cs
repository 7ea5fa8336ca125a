using System.Diagnostics;
using System.Net;
using Ja4.Modules.Detection.Blocklist;

namespace Ja4.Tests.Detection;

public sealed class BlocklistTests
{
    private static readonly IPAddress[] Addresses =
        [IPAddress.Parse("203.0.113.9"), IPAddress.Parse("::ffff:198.51.100.4"), IPAddress.Parse("2001:db8::1"), IPAddress.Parse("203.0.113.9")];

    [Fact]
    public void Three_files_list_each_address_once_in_order()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"ja4-blocklist-{Guid.NewGuid():N}");
        try
        {
            BlocklistExporter.Write(dir, Addresses, "ja4", "ja4_block", new DateTimeOffset(2026, 5, 1, 0, 0, 0, TimeSpan.Zero));
            Assert.Equal("198.51.100.4\n203.0.113.9\n2001:db8::1\n", File.ReadAllText(Path.Combine(dir, BlocklistExporter.PlainFile)));
            var apache = File.ReadAllText(Path.Combine(dir, BlocklistExporter.ApacheFile));
            Assert.Contains("<RequireAll>\n    Require all granted\n    Require not ip 198.51.100.4\n    Require not ip 203.0.113.9\n" +
                            "    Require not ip 2001:db8::1\n</RequireAll>\n", apache);
            var nft = File.ReadAllText(Path.Combine(dir, BlocklistExporter.NftFile));
            Assert.Contains("add set inet ja4 ja4_block { type ipv4_addr; }\n", nft);
            Assert.Contains("flush set inet ja4 ja4_block\n", nft);
            Assert.Contains("add element inet ja4 ja4_block { 198.51.100.4, 203.0.113.9 }\n", nft);
            Assert.Contains("add element inet ja4 ja4_block6 { 2001:db8::1 }\n", nft);
            Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
            // An empty list still produces valid files that block nobody.
            BlocklistExporter.Write(dir, [], "ja4", "ja4_block", DateTimeOffset.UnixEpoch);
            Assert.Equal("", File.ReadAllText(Path.Combine(dir, BlocklistExporter.PlainFile)));
            Assert.DoesNotContain("add element", File.ReadAllText(Path.Combine(dir, BlocklistExporter.NftFile)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Apache_accepts_the_include_file()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"ja4-blocklist-apache-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            BlocklistExporter.Write(dir, Addresses, "ja4", "ja4_block", DateTimeOffset.UnixEpoch);
            var modules = "/usr/lib/apache2/modules";
            var conf = Path.Combine(dir, "httpd.conf");
            File.WriteAllText(conf, $"""
                ServerRoot {dir}
                ServerName localhost
                PidFile {dir}/httpd.pid
                ErrorLog {dir}/error.log
                LoadModule mpm_event_module {modules}/mod_mpm_event.so
                LoadModule authz_core_module {modules}/mod_authz_core.so
                LoadModule authz_host_module {modules}/mod_authz_host.so
                Listen 127.0.0.1:18080
                <Location "/">
                    Include {dir}/{BlocklistExporter.ApacheFile}
                </Location>
                """);
            var psi = new ProcessStartInfo("/usr/sbin/apache2", ["-t", "-f", conf]) { RedirectStandardError = true, RedirectStandardOutput = true };
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, err);
            Assert.Contains("Syntax OK", err);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
