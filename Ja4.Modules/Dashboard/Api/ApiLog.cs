using Microsoft.Extensions.Logging;

namespace Ja4.Modules.Dashboard.Api;

/// <summary>Log text of the REST API.</summary>
internal static partial class ApiLog
{
    [LoggerMessage(EventId = 810, Level = LogLevel.Warning, Message = "dashboard API {Path}: the store could not answer: {Error}")]
    public static partial void StoreFailed(ILogger logger, string path, string error);
}
