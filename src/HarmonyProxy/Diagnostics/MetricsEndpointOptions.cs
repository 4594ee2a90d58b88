namespace HarmonyProxy.Diagnostics;

/// <summary>The <c>HarmonyProxy:Metrics</c> settings.</summary>
internal sealed class MetricsEndpointOptions
{
    public const string SectionName = "HarmonyProxy:Metrics";

    /// <summary>Serve <c>/metrics</c> (<c>METRICS_ENABLED</c>).</summary>
    public bool Enabled { get; set; } = true;
}
