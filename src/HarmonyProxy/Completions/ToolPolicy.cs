namespace HarmonyProxy.Completions;

/// <summary>
/// Which tool calls a request lets reach the client as native <c>tool_calls</c>: only functions
/// it offered (<c>tools</c>, or the older <c>functions</c>), none with <c>tool_choice: "none"</c>,
/// and at most one with <c>parallel_tool_calls: false</c> (Roo sends it). gpt-oss calls tools it
/// was never offered (built-ins such as <c>browser.search</c>, names from its training).
/// </summary>
/// <param name="AnyName">True when every name is allowed (no request to judge by: tests, benchmarks).</param>
/// <param name="Names">The offered function names, as the client spelled them.</param>
/// <param name="ParallelToolCalls">False when the client wants at most one call per turn.</param>
internal sealed record ToolPolicy(bool AnyName, IReadOnlySet<string> Names, bool ParallelToolCalls)
{
    // Before Unrestricted: static fields start in the order they are written.
    private static readonly Dictionary<string, string> None = [];

    public static readonly ToolPolicy Unrestricted = new(true, new HashSet<string>(), true);

    /// <summary>The names llama-server saw instead of the client's (a function named like a built-in), mapped back to the client's.</summary>
    public IReadOnlyDictionary<string, string> ClientNames { get; init; } = None;

    /// <summary>Per offered function, its one text parameter (the code of a <c>python</c> function), for a built-in call's plain body.</summary>
    public IReadOnlyDictionary<string, string> TextParameters { get; init; } = None;

    public bool Offers(string name) => AnyName || Names.Contains(name);

    /// <summary>The client's name for a function llama-server saw under another.</summary>
    public string ClientName(string upstreamName) =>
        ClientNames.TryGetValue(upstreamName, out var clientName) ? clientName : upstreamName;

    /// <summary>
    /// The offered function a built-in call is meant for: <c>to=python</c> → the client's
    /// <c>python</c>, <c>to=browser.search</c> → <c>browser</c>, <c>container.exec</c> →
    /// <c>container</c>; null when the client offered none of that name.
    /// </summary>
    public string? BuiltInTarget(string recipient)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        var dot = recipient.IndexOf('.', StringComparison.Ordinal);
        var tool = dot < 0 ? recipient : recipient[..dot];
        return !AnyName && Names.Contains(tool) ? tool : null;
    }
}
