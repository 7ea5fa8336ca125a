namespace Ja4.Host.Commands;

/// <summary>Minimal option reader: <c>--name value</c>, <c>--name=value</c>, flags and positionals.</summary>
public sealed class ArgReader
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    private readonly List<string> _positionals = [];

    /// <param name="args">Arguments after the verb.</param>
    /// <param name="valued">Options that take a value, e.g. "--config".</param>
    /// <param name="flags">Options without a value.</param>
    public ArgReader(string[] args, IReadOnlyCollection<string> valued, IReadOnlyCollection<string> flags)
    {
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (a == "--")
            {
                _positionals.AddRange(args[(i + 1)..]);
                break;
            }
            if (!a.StartsWith("--", StringComparison.Ordinal) || a.Length == 2)
            {
                _positionals.Add(a);
                continue;
            }
            var eq = a.IndexOf('=');
            var name = eq > 0 ? a[..eq] : a;
            if (valued.Contains(name))
            {
                string value;
                if (eq > 0)
                {
                    value = a[(eq + 1)..];
                }
                else if (i + 1 < args.Length)
                {
                    value = args[++i];
                }
                else
                {
                    throw new UsageException($"option {name} needs a value");
                }
                _options[name] = value;
            }
            else if (flags.Contains(name) && eq < 0)
            {
                _options[name] = null;
            }
            else
            {
                throw new UsageException($"unknown option '{name}'");
            }
        }
    }

    public IReadOnlyList<string> Positionals => _positionals;
    public string? Value(string name) => _options.TryGetValue(name, out var v) ? v : null;
    public bool Flag(string name) => _options.ContainsKey(name);
}
