namespace Ja4.Modules.Dashboard.Components;

/// <summary>Anchor type to read the product version from this assembly.</summary>
internal sealed class StatusPageVersion;
