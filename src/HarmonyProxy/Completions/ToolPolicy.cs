namespace HarmonyProxy.Completions;

/// <summary>
/// Which tool calls a request lets reach the client as native <c>tool_calls</c>: only functions
/// it offered (<c>tools</c>, or the older <c>functions</c>), none with <c>tool_choice: "none"</c>,
/// and at most one with <c>parallel_tool_calls: false</c> (Roo sends it). gpt-oss calls tools it
/// was never offered (built-ins such as <c>browser.search</c>, names from its training).
/// </summary>
/// <param name="AnyName">True when every name is allowed (no request to judge by: tests, benchmarks).</param>
/// <param name="Names">The offered function names.</param>
/// <param name="ParallelToolCalls">False when the client wants at most one call per turn.</param>
internal sealed record ToolPolicy(bool AnyName, IReadOnlySet<string> Names, bool ParallelToolCalls)
{
    public static readonly ToolPolicy Unrestricted = new(true, new HashSet<string>(), true);

    public bool Offers(string name) => AnyName || Names.Contains(name);
}
