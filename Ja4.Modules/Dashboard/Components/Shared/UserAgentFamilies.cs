namespace Ja4.Modules.Dashboard.Components.Shared;

/// <summary>The browser or tool family a User-Agent claims, by its product tokens.</summary>
public static class UserAgentFamilies
{
    // Order matters: Edge and Opera also carry "Chrome/", Chrome also carries "Safari/".
    private static readonly (string Token, string Family)[] Tokens =
    [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Chromium/", "Chrome"),
        ("Version/", "Safari"),
        ("curl/", "curl"),
        ("Wget/", "Wget"),
        ("python-requests/", "Python"),
        ("python-urllib", "Python"),
        ("aiohttp/", "Python"),
        ("Go-http-client/", "Go"),
        ("okhttp/", "OkHttp"),
        ("Java/", "Java"),
        ("node-fetch", "Node.js"),
        ("axios/", "Node.js"),
    ];

    /// <summary>"Chrome", "Firefox", "curl", ..., "bot" for self-declared crawlers, "(none)" for an empty header, else "other".</summary>
    public static string Of(string? userAgent)
    {
        if (string.IsNullOrWhiteSpace(userAgent))
        {
            return "(none)";
        }
        if (userAgent.Contains("bot", StringComparison.OrdinalIgnoreCase) || userAgent.Contains("crawler", StringComparison.OrdinalIgnoreCase) ||
            userAgent.Contains("spider", StringComparison.OrdinalIgnoreCase))
        {
            return "bot";
        }
        foreach (var (token, family) in Tokens)
        {
            if (userAgent.Contains(token, StringComparison.OrdinalIgnoreCase))
            {
                return family == "Safari" && !userAgent.Contains("Safari/", StringComparison.Ordinal) ? "other" : family;
            }
        }
        return "other";
    }
}
