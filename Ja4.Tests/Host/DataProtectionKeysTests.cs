using Ja4.Host;
using Ja4.Tests.EndToEnd;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;

namespace Ja4.Tests.Host;

/// <summary>The data-protection key ring lives under <c>DataProtection:KeysPath</c> and survives a restart.</summary>
[Trait("Category", "EndToEnd")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DataProtectionKeysTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ja4-keys-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_payload_protected_before_a_restart_is_read_after_it()
    {
        var keys = Path.Combine(_dir, "state", "keys");
        var settings = new Dictionary<string, string?> { ["DataProtection:KeysPath"] = keys };
        string token;
        await using (var first = await DaemonInstance.StartAsync(settings))
        {
            token = first.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("ja4.tests").Protect("session 42");
        }
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(keys));
        Assert.Single(Directory.GetFiles(keys, "key-*.xml"));

        await using var second = await DaemonInstance.StartAsync(settings);
        Assert.Equal("session 42", second.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("ja4.tests").Unprotect(token));
        Assert.Single(Directory.GetFiles(keys, "key-*.xml")); // the same key, not a new one
    }

    [Fact]
    public async Task Without_the_key_ring_a_restart_cannot_read_the_payload()
    {
        // The counterpart: two processes with key rings of their own do not share cookies.
        string token;
        await using (var first = await DaemonInstance.StartAsync(new Dictionary<string, string?> { ["DataProtection:KeysPath"] = Path.Combine(_dir, "a") }))
        {
            token = first.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("ja4.tests").Protect("session 42");
        }
        await using var second = await DaemonInstance.StartAsync(new Dictionary<string, string?> { ["DataProtection:KeysPath"] = Path.Combine(_dir, "b") });
        var protector = second.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("ja4.tests");
        Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() => protector.Unprotect(token));
    }

    [Fact]
    public async Task A_file_in_place_of_the_directory_stops_start_up_naming_the_key()
    {
        var file = Path.Combine(_dir, "keys");
        await File.WriteAllTextAsync(file, "not a directory");
        var e = await Assert.ThrowsAnyAsync<Exception>(() => DaemonInstance.StartAsync(
            new Dictionary<string, string?> { ["DataProtection:KeysPath"] = file }));
        var line = Assert.Single(DaemonHost.Explain(e));
        Assert.Equal($"DataProtection:KeysPath: {file} is a file, not a directory", line);
    }
}
