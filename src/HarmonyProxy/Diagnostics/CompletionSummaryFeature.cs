namespace HarmonyProxy.Diagnostics;

/// <summary>
/// Set on a request once a chat completion has ended and written its summary line: what came
/// of it, for middleware that runs after the handler (the request summary, metrics).
/// </summary>
/// <param name="Outcome">The outcome's name (<see cref="CompletionOutcomes.Name"/>): ok, upstream_unreachable, broke_after_output, idle_timeout, client_aborted…</param>
/// <param name="Attempts">Requests sent to llama-server.</param>
/// <param name="Recovery">The recoveries tried, or null.</param>
internal sealed record CompletionSummaryFeature(string Outcome, int Attempts, string? Recovery);
