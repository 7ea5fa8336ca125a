using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Ja4.Modules.Dashboard.Security;

/// <summary>
/// Password hashes of the dashboard's local accounts:
/// <c>pbkdf2-sha256$&lt;iterations&gt;$&lt;salt, base64&gt;$&lt;key, base64&gt;</c>, PBKDF2 with
/// HMAC-SHA-256 (RFC 8018), a random 16-byte salt and a 32-byte key. OWASP's password storage
/// guidance asks for at least 600,000 iterations of PBKDF2-HMAC-SHA256, which is the floor here.
/// </summary>
public static class PasswordHash
{
    public const string Scheme = "pbkdf2-sha256";
    public const int MinIterations = 600_000;
    public const int MaxIterations = 10_000_000;
    private const int SaltBytes = 16;
    private const int KeyBytes = 32;

    /// <summary>A new salted hash of <paramref name="password"/>.</summary>
    public static string Hash(string password, int iterations = MinIterations)
    {
        ArgumentException.ThrowIfNullOrEmpty(password);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, MinIterations);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(iterations, MaxIterations);
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var key = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, KeyBytes);
        return string.Create(CultureInfo.InvariantCulture,
            $"{Scheme}${iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(key)}");
    }

    /// <summary>Reads an encoded hash; false with a reason when it is not one this version writes.</summary>
    public static bool TryParse(string? encoded, out int iterations, out byte[] salt, out byte[] key, out string? problem)
    {
        iterations = 0;
        salt = key = [];
        problem = null;
        var parts = (encoded ?? "").Split('$');
        if (parts.Length != 4 || parts[0] != Scheme)
        {
            problem = $"is not a '{Scheme}$iterations$salt$key' hash (make one with 'ja4 hash-password')";
            return false;
        }
        if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out iterations) ||
            iterations < MinIterations || iterations > MaxIterations)
        {
            problem = $"must use between {MinIterations} and {MaxIterations} iterations";
            return false;
        }
        try
        {
            salt = Convert.FromBase64String(parts[2]);
            key = Convert.FromBase64String(parts[3]);
        }
        catch (FormatException)
        {
            problem = "has a salt or key that is not base64";
            return false;
        }
        if (salt.Length < SaltBytes || key.Length != KeyBytes)
        {
            problem = $"must have a salt of at least {SaltBytes} bytes and a key of {KeyBytes} bytes";
            return false;
        }
        return true;
    }

    /// <summary>True when <paramref name="password"/> matches; the comparison takes the same time whatever differs.</summary>
    public static bool Verify(string password, string encoded)
    {
        if (!TryParse(encoded, out var iterations, out var salt, out var expected, out _))
        {
            return false;
        }
        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, KeyBytes);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }
}
