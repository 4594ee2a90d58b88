namespace HarmonyProxy.Diagnostics;

/// <summary>Which limit ended a generation.</summary>
internal enum WatchdogKind
{
    None,

    /// <summary>No upstream event for the idle limit once streaming (<c>READ_TIMEOUT</c>).</summary>
    Idle,

    /// <summary>Hidden reasoning ran past the limit without visible text or a tool call (<c>NO_FINAL_TIMEOUT</c>).</summary>
    NoVisibleOutput,

    /// <summary>The request's total ceiling.</summary>
    Total,

    /// <summary>The proxy is shutting down and the drain time is over.</summary>
    Shutdown,

    /// <summary>Hidden reasoning kept repeating itself (<see cref="Completions.ReasoningLoopDetector"/>).</summary>
    ReasoningLoop,
}

/// <summary>The watchdogs' names in metrics and logs.</summary>
internal static class WatchdogKinds
{
    public static string Name(this WatchdogKind kind) => kind switch
    {
        WatchdogKind.Idle => "idle",
        WatchdogKind.NoVisibleOutput => "no_visible_output",
        WatchdogKind.Total => "total",
        WatchdogKind.Shutdown => "shutdown",
        WatchdogKind.ReasoningLoop => "reasoning_loop",
        _ => "none",
    };
}
