namespace HarmonyProxy.Upstream;

/// <summary>What an error from llama-server means for the next request, and so what the proxy does about it.</summary>
internal enum UpstreamErrorKind
{
    /// <summary>Overload, loading, a proxy in between or a dropped connection: the same request may well succeed (retried within <c>MaxRetries</c>).</summary>
    Transient,

    /// <summary>llama-server's own Harmony parser failed on the model's output: asked once more with its parsing off, and parsed here.</summary>
    ParseFailure,

    /// <summary>The chat template rejected the conversation's history: asked once more with the history repaired.</summary>
    TemplateHistory,

    /// <summary>llama-server would give the same answer again (a 4xx, any other 500): never resent.</summary>
    Deterministic,
}

/// <summary>
/// llama-server's error messages that the proxy acts on, in one place (llama-server.md §3 and
/// §2.6): its gpt-oss parser's failures and the gpt-oss template's history checks. Matching is
/// on stable fragments of the message, since the rest quotes the model's output or the history.
/// </summary>
internal static partial class LlamaServerErrors
{
    /// <summary>The 2026 PEG parser's failures (llama.cpp #20532, #25321, #26381, #27720) and the streaming diff's (#14060).</summary>
    public static readonly IReadOnlyList<string> ParseFailures =
    [
        "Failed to parse input at pos",
        "does not match the expected peg-native format",
        "Invalid diff:",
    ];

    /// <summary>The gpt-oss template's history checks (llama.cpp #19701, #15091, #15242).</summary>
    public static readonly IReadOnlyList<string> TemplateHistoryProblems =
    [
        "Cannot pass both content and thinking",
        "You have passed a message containing <|channel|> tags",
    ];

    /// <summary>llama-server's type for a prompt longer than a slot's context (current builds).</summary>
    public const string ContextOverflowType = "exceed_context_size_error";

    /// <summary>The context-overflow messages of current and older builds (llama-server.md §4.1).</summary>
    public static readonly IReadOnlyList<string> ContextOverflows =
    [
        "exceeds the available context size",
        "the request exceeds the available context size",
    ];

    /// <summary>True when llama-server says the prompt does not fit its context: clients condense the conversation on this.</summary>
    public static bool IsContextOverflow(string? type, string? message) =>
        type == ContextOverflowType || (message is not null && ContainsAny(message, ContextOverflows));

    /// <summary>
    /// The prompt and context sizes of a context overflow: from the error's fields, else from
    /// the current message, <c>request (N tokens) exceeds the available context size (M tokens)</c>.
    /// </summary>
    public static (int? PromptTokens, int? ContextSize) ContextOverflowSizes(string? message, int? promptTokens, int? contextSize)
    {
        if ((promptTokens is null || contextSize is null) && message is not null)
        {
            var match = ContextOverflowSizesPattern().Match(message);
            if (match.Success)
            {
                promptTokens ??= int.Parse(match.Groups[1].ValueSpan, System.Globalization.CultureInfo.InvariantCulture);
                contextSize ??= int.Parse(match.Groups[2].ValueSpan, System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return (promptTokens, contextSize);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\((\d+) tokens\) exceeds the available context size \((\d+) tokens\)", System.Text.RegularExpressions.RegexOptions.None, matchTimeoutMilliseconds: 50)]
    private static partial System.Text.RegularExpressions.Regex ContextOverflowSizesPattern();

    /// <summary>Classifies an error llama-server sent, as an HTTP status with its body's message or as an in-stream error event.</summary>
    /// <param name="status">The HTTP status, or the error event's <c>code</c> (500 when it has none).</param>
    /// <param name="message">The error's message; null when the body held none.</param>
    public static UpstreamErrorKind Classify(int status, string? message)
    {
        if (IsTransientStatus(status))
        {
            return UpstreamErrorKind.Transient;
        }

        if (status == 500 && message is not null)
        {
            if (ContainsAny(message, ParseFailures))
            {
                return UpstreamErrorKind.ParseFailure;
            }

            if (ContainsAny(message, TemplateHistoryProblems))
            {
                return UpstreamErrorKind.TemplateHistory;
            }
        }

        return status >= 400 ? UpstreamErrorKind.Deterministic : UpstreamErrorKind.Transient;
    }

    /// <summary>
    /// The one definition of a transient status, for the send pipeline's retry and for errors met
    /// later alike: a timeout (408), overload (429, 503), a proxy in between (502, 504).
    /// </summary>
    public static bool IsTransientStatus(int status) => status is 408 or 429 or 502 or 503 or 504;

    private static bool ContainsAny(string message, IReadOnlyList<string> fragments)
    {
        foreach (var fragment in fragments)
        {
            if (message.Contains(fragment, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
