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
