using Microsoft.Extensions.Logging;

namespace Ja4.Modules.Capture;

/// <summary>The capture module's log messages.</summary>
internal static partial class CaptureLog
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information,
        Message = "Capture disabled in practice: no consumer of handshakes or connection events is enabled (Modules:Correlation, Modules:Storage); the device is not opened")]
    public static partial void NoConsumers(ILogger logger);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information,
        Message = "Capturing on {InterfaceName} (link type {LinkType}) with filter \"{Filter}\", snap length {SnapLength}, buffer {BufferSizeMb} MiB, promiscuous {Promiscuous}, QUIC {Quic}")]
    public static partial void Started(ILogger logger, string interfaceName, int linkType, string filter, int snapLength, int bufferSizeMb, bool promiscuous, bool quic);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Critical, Message = "{Message}")]
    public static partial void CannotStart(ILogger logger, string message);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information,
        Message = "Capture stats: {Packets} packets, {Hellos} hellos, {Closed} connections closed; libpcap received {Received}, dropped by kernel {KernelDropped}, by interface {InterfaceDropped}; {Flows} flows and {Connections} connections tracked")]
    public static partial void Stats(ILogger logger, long packets, long hellos, long closed, long received, long kernelDropped, long interfaceDropped, int flows, int connections);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning,
        Message = "The kernel dropped {Dropped} packets in the last interval (raise Modules:Capture:BufferSizeMb or narrow Modules:Capture:Filter)")]
    public static partial void KernelDrops(ILogger logger, long dropped);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Error, Message = "Capture on {InterfaceName} stopped: {Error}")]
    public static partial void ReadFailed(ILogger logger, string interfaceName, string error);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Debug, Message = "ClientHello from {Flow} did not parse: {Error} ({Count} so far)")]
    public static partial void HelloParseFailed(ILogger logger, string flow, string error, long count);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Information, Message = "Capture on {InterfaceName} stopped after {Packets} packets and {Hellos} hellos")]
    public static partial void Stopped(ILogger logger, string interfaceName, long packets, long hellos);
}
