using Microsoft.Extensions.Logging;

namespace Ja4.Modules.Dashboard.Security;

/// <summary>Log text of the dashboard's sign-in.</summary>
internal static partial class SecurityLog
{
    [LoggerMessage(EventId = 800, Level = LogLevel.Information, Message = "dashboard: {Account} signed in from {Address}")]
    public static partial void SignedIn(ILogger logger, string account, string address);

    [LoggerMessage(EventId = 801, Level = LogLevel.Warning, Message = "dashboard: failed sign-in for {Account} from {Address} ({Failures} in a row)")]
    public static partial void SignInFailed(ILogger logger, string account, string address, int failures);

    [LoggerMessage(EventId = 802, Level = LogLevel.Warning, Message = "dashboard: sign-in from {Address} refused for {Seconds} s after repeated failures")]
    public static partial void SignInThrottled(ILogger logger, string address, int seconds);

    [LoggerMessage(EventId = 803, Level = LogLevel.Information, Message = "dashboard: {Account} signed out")]
    public static partial void SignedOut(ILogger logger, string account);
}
