using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Ja4.Modules.Capture.Quic;

/// <summary>QUIC versions whose Initial packets can be decrypted.</summary>
public static class QuicVersions
{
    public const uint V1 = 0x0000_0001;
    /// <summary>QUIC version 2 (RFC 9369).</summary>
    public const uint V2 = 0x6b33_43cf;

    /// <summary>RFC 9001 §5.2 initial_salt for QUIC v1.</summary>
    public static ReadOnlySpan<byte> SaltV1 =>
    [
        0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
        0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
    ];

    /// <summary>RFC 9369 §3.3.1 initial_salt for QUIC v2.</summary>
    public static ReadOnlySpan<byte> SaltV2 =>
    [
        0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
        0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9,
    ];

    public static bool IsSupported(uint version) => version is V1 or V2;

    /// <summary>The long-header type bits of an Initial packet: 0b00 in v1 (RFC 9000 §17.2), 0b01 in v2 (RFC 9369 §3.2).</summary>
    public static int InitialType(uint version) => version == V2 ? 1 : 0;
}

/// <summary>
/// The client's Initial packet protection keys, derived from the Destination Connection ID of
/// its first Initial packet (RFC 9001 §5.2), with AES-128-GCM payload protection (§5.3) and
/// AES-ECB header protection (§5.4.3).
/// </summary>
public sealed class QuicInitialProtection : IDisposable
{
    public const int KeyLength = 16;
    public const int IvLength = 12;
    public const int TagLength = 16;
    public const int SampleLength = 16;

    private readonly AesGcm _aead;
    private readonly Aes _hp;
    private readonly byte[] _iv;

    private QuicInitialProtection(byte[] key, byte[] iv, byte[] hp)
    {
        Key = key;
        _iv = iv;
        HeaderKey = hp;
        _aead = new AesGcm(key, TagLength);
        _hp = Aes.Create();
        _hp.Key = hp;
    }

    public byte[] Key { get; }
    public ReadOnlySpan<byte> Iv => _iv;
    public byte[] HeaderKey { get; }

    /// <summary>Derives the client Initial keys for <paramref name="version"/> from the original DCID.</summary>
    public static QuicInitialProtection ForClient(uint version, ReadOnlySpan<byte> originalDcid)
    {
        Span<byte> secret = stackalloc byte[32];
        ClientInitialSecret(version, originalDcid, secret);
        var v2 = version == QuicVersions.V2;
        var key = new byte[KeyLength];
        var iv = new byte[IvLength];
        var hp = new byte[KeyLength];
        ExpandLabel(secret, v2 ? "quicv2 key" : "quic key", key);
        ExpandLabel(secret, v2 ? "quicv2 iv" : "quic iv", iv);
        ExpandLabel(secret, v2 ? "quicv2 hp" : "quic hp", hp);
        return new QuicInitialProtection(key, iv, hp);
    }

    /// <summary>client_initial_secret = HKDF-Expand-Label(HKDF-Extract(salt, dcid), "client in", "", 32).</summary>
    public static void ClientInitialSecret(uint version, ReadOnlySpan<byte> originalDcid, Span<byte> secret)
    {
        Span<byte> initial = stackalloc byte[32];
        HKDF.Extract(HashAlgorithmName.SHA256, originalDcid, version == QuicVersions.V2 ? QuicVersions.SaltV2 : QuicVersions.SaltV1, initial);
        ExpandLabel(initial, "client in", secret);
    }

    /// <summary>HKDF-Expand-Label (RFC 8446 §7.1) with an empty context.</summary>
    public static void ExpandLabel(ReadOnlySpan<byte> secret, string label, Span<byte> output)
    {
        // struct { uint16 length; opaque label<7..255> = "tls13 " + Label; opaque context<0..255>; }
        Span<byte> info = stackalloc byte[2 + 1 + 6 + label.Length + 1];
        BinaryPrimitives.WriteUInt16BigEndian(info, (ushort)output.Length);
        info[2] = (byte)(6 + label.Length);
        "tls13 "u8.CopyTo(info[3..]);
        for (var i = 0; i < label.Length; i++)
        {
            info[9 + i] = (byte)label[i];
        }
        info[^1] = 0;
        HKDF.Expand(HashAlgorithmName.SHA256, secret, output, info);
    }

    /// <summary>The 5-byte header protection mask for a 16-byte ciphertext sample.</summary>
    public void HeaderMask(ReadOnlySpan<byte> sample, Span<byte> mask)
    {
        Span<byte> block = stackalloc byte[16];
        _hp.EncryptEcb(sample[..SampleLength], block, PaddingMode.None);
        block[..5].CopyTo(mask);
    }

    /// <summary>Decrypts a payload in place of <paramref name="plaintext"/>; false when the tag does not verify.</summary>
    public bool TryDecrypt(ulong packetNumber, ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> ciphertextAndTag, Span<byte> plaintext)
    {
        if (ciphertextAndTag.Length < TagLength)
        {
            return false;
        }
        // RFC 9001 §5.3: the nonce is the IV XORed with the packet number, left-padded.
        Span<byte> nonce = stackalloc byte[IvLength];
        _iv.CopyTo(nonce);
        Span<byte> pn = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(pn, packetNumber);
        for (var i = 0; i < 8; i++)
        {
            nonce[IvLength - 8 + i] ^= pn[i];
        }
        var ctLength = ciphertextAndTag.Length - TagLength;
        try
        {
            _aead.Decrypt(nonce, ciphertextAndTag[..ctLength], ciphertextAndTag[ctLength..], plaintext[..ctLength], associatedData);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        _aead.Dispose();
        _hp.Dispose();
    }
}
