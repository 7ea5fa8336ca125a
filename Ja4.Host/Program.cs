using System.Text;
using Ja4.Host;

// One-shot file commands run with every method optimised on first call (see OneShotRuntime).
OneShotRuntime.Apply(args);

// Console's own stdout writer flushes every 256 characters, one write(2) each; a larger buffer
// (still flushed after every Write) lets `ja4 fingerprint` write its output in 64 KiB chunks.
Console.SetOut(new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 16) { AutoFlush = true });
return await Cli.RunAsync(args);
