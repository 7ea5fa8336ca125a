using Ja4.Modules.Fingerprints;

namespace Ja4.Tests.Fingerprints;

public sealed class ClientHelloParserTests
{
    private static byte[] SampleHello()
    {
        var b = new ClientHelloBuilder();
        b.Ciphers.AddRange([0x1301, 0x1302, 0xc02b]);
        b.ServerName("example.com")
            .Alpn("h2"u8.ToArray(), "http/1.1"u8.ToArray())
            .U16ListExtension(0x000a, [0x001d, 0x0017])
            .PointFormats(0)
            .U16ListExtension(0x000d, [0x0403, 0x0804])
            .U16ListExtension(0x002b, [0x0304, 0x0303], prefixBytes: 1);
        return b.Build();
    }

    [Fact]
    public void Parses_every_field_of_a_hand_built_hello()
    {
        Assert.True(ClientHelloParser.TryParse(SampleHello(), out var h, out var error));
        Assert.Equal(ClientHelloError.None, error);
        Assert.Equal(0x0303, h!.LegacyVersion);
        Assert.Equal(new ushort[] { 0x1301, 0x1302, 0xc02b }, h.CipherSuites);
        Assert.Equal(new ushort[] { 0x0000, 0x0010, 0x000a, 0x000b, 0x000d, 0x002b }, h.Extensions);
        Assert.Equal("example.com", h.Sni);
        Assert.Equal(new[] { "h2", "http/1.1" }, h.AlpnNames());
        Assert.Equal(new ushort[] { 0x001d, 0x0017 }, h.SupportedGroups);
        Assert.Equal(new byte[] { 0 }, h.EcPointFormats);
        Assert.Equal(new ushort[] { 0x0403, 0x0804 }, h.SignatureAlgorithms);
        Assert.Equal(0x0304, h.MaxVersion);
    }

    [Fact]
    public void Every_strict_prefix_is_reported_truncated()
    {
        var hello = SampleHello();
        for (var n = 0; n < hello.Length; n++)
        {
            Assert.False(ClientHelloParser.TryParse(hello.AsSpan(0, n), out var h, out var error));
            Assert.Null(h);
            Assert.Equal(ClientHelloError.Truncated, error);
        }
    }

    [Fact]
    public void Other_handshake_types_are_not_client_hellos()
    {
        var hello = SampleHello();
        hello[0] = 2; // server_hello
        Assert.False(ClientHelloParser.TryParse(hello, out _, out var error));
        Assert.Equal(ClientHelloError.NotClientHello, error);
    }

    [Fact]
    public void Odd_cipher_suite_length_is_a_bad_length()
    {
        var hello = SampleHello();
        // header 4 + version 2 + random 32 + session id 1+32 = offset 71: cipher_suites length
        hello[72] = 5;
        Assert.False(ClientHelloParser.TryParse(hello, out _, out var error));
        Assert.Equal(ClientHelloError.BadLength, error);
    }

    [Fact]
    public void Extension_running_past_its_block_is_a_bad_length()
    {
        var b = new ClientHelloBuilder();
        b.Ciphers.Add(0x1301);
        b.Extension(0x0017, [1, 2, 3]);
        var hello = b.Build();
        hello[^4] = 0x40; // extension length 0x4003 > the 3 bytes that follow
        Assert.False(ClientHelloParser.TryParse(hello, out _, out var error));
        Assert.Equal(ClientHelloError.BadLength, error);
    }

    [Fact]
    public void Lying_length_fields_never_throw_and_never_read_past_the_message()
    {
        var hello = SampleHello();
        var rng = new Random(4242);
        for (var i = 0; i < 20_000; i++)
        {
            var copy = (byte[])hello.Clone();
            var edits = rng.Next(1, 4);
            for (var k = 0; k < edits; k++)
            {
                copy[rng.Next(copy.Length)] = (byte)rng.Next(256);
            }
            if (ClientHelloParser.TryParse(copy, out var h, out var error))
            {
                Assert.Equal(ClientHelloError.None, error);
                Assert.True(h!.CipherSuites.Length * 2 <= copy.Length);
                Assert.True(h.Extensions.Length * 4 <= copy.Length);
            }
            else
            {
                Assert.NotEqual(ClientHelloError.None, error);
                Assert.Null(h);
            }
        }
    }

    [Fact]
    public void Random_bytes_never_throw()
    {
        var rng = new Random(7);
        var accepted = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var buf = new byte[rng.Next(0, 600)];
            rng.NextBytes(buf);
            if (buf.Length > 0 && rng.Next(2) == 0)
            {
                buf[0] = 1; // often claim to be a client_hello to get past the first check
                if (buf.Length > 3)
                {
                    buf[1] = 0;
                    buf[2] = (byte)((buf.Length - 4) >> 8);
                    buf[3] = (byte)(buf.Length - 4);
                }
            }
            if (ClientHelloParser.TryParse(buf, out _, out _))
            {
                accepted++;
            }
        }
        // Random bodies almost never have consistent nested lengths.
        Assert.True(accepted < 2_000, $"accepted {accepted} random buffers");
    }

    [Fact]
    public void Message_length_reads_the_uint24_header()
    {
        Assert.Equal(-1, ClientHelloParser.MessageLength([1, 0, 0]));
        Assert.Equal(4 + 0x010203, ClientHelloParser.MessageLength([1, 1, 2, 3]));
    }
}
