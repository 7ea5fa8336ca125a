using Microsoft.Extensions.Options;

namespace Ja4.Modules.Core.Filtering;

/// <summary>
/// The top-level <c>IpFilter</c> section: client networks left out by capture, ingest and
/// correlation. Entries are CIDRs or bare addresses, IPv4 or IPv6.
/// </summary>
public sealed class IpFilterOptions
{
    public const string SectionName = "IpFilter";

    /// <summary>When not empty, only clients in one of these networks are kept. Default: empty (everyone).</summary>
    public List<string> Allow { get; set; } = [];

    /// <summary>Clients in these networks are dropped, even when allowed. Default: empty.</summary>
    public List<string> Deny { get; set; } = [];
}

internal sealed class IpFilterOptionsValidator : IValidateOptions<IpFilterOptions>
{
    public ValidateOptionsResult Validate(string? name, IpFilterOptions options)
    {
        var errors = new List<string>();
        Check(errors, "Allow", options.Allow);
        Check(errors, "Deny", options.Deny);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Check(List<string> errors, string key, List<string>? entries)
    {
        if (entries is null)
        {
            return;
        }
        for (var i = 0; i < entries.Count; i++)
        {
            if (!CidrRange.TryParse(entries[i], out _))
            {
                errors.Add($"{IpFilterOptions.SectionName}:{key}:{i} (\"{entries[i]}\") must be an IP address or a CIDR network such as 10.0.0.0/8 or 2001:db8::/32");
            }
        }
    }
}
