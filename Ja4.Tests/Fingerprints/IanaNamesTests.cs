using Ja4.Modules.Fingerprints;
using static Ja4.Modules.Fingerprints.IanaNames.Registry;

namespace Ja4.Tests.Fingerprints;

/// <summary>Values checked by hand against RFC 8446, RFC 5246 and the IANA TLS Parameters registry.</summary>
public sealed class IanaNamesTests
{
    [Theory]
    // RFC 8446 appendix B.4
    [InlineData(0x1301, "TLS_AES_128_GCM_SHA256")]
    [InlineData(0x1302, "TLS_AES_256_GCM_SHA384")]
    [InlineData(0x1303, "TLS_CHACHA20_POLY1305_SHA256")]
    // RFC 5246 appendix A.5
    [InlineData(0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA")]
    [InlineData(0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA")]
    [InlineData(0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256")]
    [InlineData(0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA")]
    // RFC 5289, RFC 7905, RFC 5746, RFC 7507 (as listed in the registry)
    [InlineData(0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")]
    [InlineData(0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384")]
    [InlineData(0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256")]
    [InlineData(0x00ff, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV")]
    [InlineData(0x5600, "TLS_FALLBACK_SCSV")]
    public void Cipher_suites(int code, string name) => Assert.Equal(name, IanaNames.Name(CipherSuite, (ushort)code));

    [Theory]
    // RFC 8446 §4.2 ExtensionType
    [InlineData(0, "server_name")]
    [InlineData(10, "supported_groups")]
    [InlineData(13, "signature_algorithms")]
    [InlineData(16, "application_layer_protocol_negotiation")]
    [InlineData(41, "pre_shared_key")]
    [InlineData(43, "supported_versions")]
    [InlineData(45, "psk_key_exchange_modes")]
    [InlineData(51, "key_share")]
    // RFC 5077 / 8446 (registry name), RFC 5746, RFC 7627, RFC 8879
    [InlineData(35, "session_ticket")]
    [InlineData(0xff01, "renegotiation_info")]
    [InlineData(23, "extended_master_secret")]
    [InlineData(27, "compress_certificate")]
    public void Extensions(int code, string name) => Assert.Equal(name, IanaNames.Name(Extension, (ushort)code));

    [Theory]
    // RFC 8446 §4.2.7 NamedGroup
    [InlineData(0x0017, "secp256r1")]
    [InlineData(0x0018, "secp384r1")]
    [InlineData(0x0019, "secp521r1")]
    [InlineData(0x001d, "x25519")]
    [InlineData(0x001e, "x448")]
    [InlineData(0x0100, "ffdhe2048")]
    [InlineData(0x0104, "ffdhe8192")]
    public void Supported_groups(int code, string name) => Assert.Equal(name, IanaNames.Name(SupportedGroup, (ushort)code));

    [Theory]
    // RFC 8446 §4.2.3 SignatureScheme
    [InlineData(0x0401, "rsa_pkcs1_sha256")]
    [InlineData(0x0403, "ecdsa_secp256r1_sha256")]
    [InlineData(0x0804, "rsa_pss_rsae_sha256")]
    [InlineData(0x0807, "ed25519")]
    [InlineData(0x080b, "rsa_pss_pss_sha512")]
    [InlineData(0x0201, "rsa_pkcs1_sha1")]
    [InlineData(0x0203, "ecdsa_sha1")]
    public void Signature_schemes(int code, string name) => Assert.Equal(name, IanaNames.Name(SignatureScheme, (ushort)code));

    [Theory]
    [InlineData(0x0a0a)]
    [InlineData(0x1a1a)]
    [InlineData(0xfafa)]
    public void Grease_is_named_grease_in_every_registry(int code)
    {
        foreach (var registry in Enum.GetValues<IanaNames.Registry>())
        {
            Assert.Equal("GREASE", IanaNames.Name(registry, (ushort)code));
        }
    }

    [Fact]
    public void Unknown_values_are_shown_as_their_code()
    {
        Assert.Null(IanaNames.TryName(CipherSuite, 0x1234));
        Assert.Equal("unknown (0x1234)", IanaNames.Name(CipherSuite, 0x1234));
        Assert.Equal("unknown (0x0a0b)", IanaNames.Name(Extension, 0x0a0b)); // not GREASE: bytes differ
        Assert.Equal("0x002f", IanaNames.Hex(0x2f));
    }
}
