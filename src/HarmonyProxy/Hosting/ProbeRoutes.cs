namespace Microsoft.AspNetCore.Builder;

/// <summary>The routes that probes and scrapers call every few seconds: kept out of traces, logged at Debug, served while draining.</summary>
internal static class ProbeRoutes
{
    public static bool IsProbe(PathString path) =>
        path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz") || path.StartsWithSegments("/metrics");
}
