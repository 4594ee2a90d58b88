namespace HarmonyProxy.Harmony;

/// <summary>Where a message came from: a real header, or text the parser had to place without one.</summary>
internal enum HarmonyMessageOrigin
{
    /// <summary>A header closed by <c>&lt;|message|&gt;</c> (or recovered from one that lacked it).</summary>
    Header,

    /// <summary>A header of the stripped form (special tokens not printed).</summary>
    Stripped,

    /// <summary>Header-less text before other messages: chain of thought (refusals, edge case 15a).</summary>
    LeadingText,

    /// <summary>Header-less text after a closed message (edge case 15b): visible.</summary>
    TrailingText,

    /// <summary>The whole output had no Harmony structure: it is the plain answer.</summary>
    PlainText,

    /// <summary>The parser was started inside an answer body (llama-server already parsed the turn).</summary>
    Continuation,
}

/// <summary>How a message ended.</summary>
internal enum HarmonyMessageEnd
{
    /// <summary><c>&lt;|end|&gt;</c>: complete, more may follow.</summary>
    End,

    /// <summary><c>&lt;|call|&gt;</c>: a complete tool call.</summary>
    Call,

    /// <summary><c>&lt;|return|&gt;</c>: the answer is complete and the turn is over.</summary>
    Return,

    /// <summary>Closed by the next header (<c>&lt;|start|&gt;</c> or <c>&lt;|channel|&gt;</c>) without a terminator.</summary>
    Implicit,

    /// <summary>The stream ended normally while the message was open (llama.cpp hides stop tokens).</summary>
    EndOfStream,

    /// <summary>The stream was cut (upstream <c>length</c>) while the message was open.</summary>
    Truncated,
}

/// <summary>The parsed header of one Harmony message.</summary>
/// <param name="Channel">analysis, commentary, final, another word, or null when there was none.</param>
/// <param name="Recipient">The <c>to=</c> target (e.g. <c>functions.read_file</c>), <c>assistant</c> for a stray address, or null.</param>
/// <param name="ContentType">The body's type (<c>json</c>, <c>code</c>) or null.</param>
/// <param name="Origin">How the parser found the message.</param>
internal sealed record HarmonyMessageHeader(
    string? Channel,
    string? Recipient,
    string? ContentType,
    HarmonyMessageOrigin Origin)
{
    public static readonly HarmonyMessageHeader Continuation = new("final", null, null, HarmonyMessageOrigin.Continuation);
    public static readonly HarmonyMessageHeader ReasoningContinuation = new("analysis", null, null, HarmonyMessageOrigin.Header);
    public static readonly HarmonyMessageHeader LeadingText = new(null, null, null, HarmonyMessageOrigin.LeadingText);
    public static readonly HarmonyMessageHeader TrailingText = new(null, null, null, HarmonyMessageOrigin.TrailingText);
    public static readonly HarmonyMessageHeader PlainText = new(null, null, null, HarmonyMessageOrigin.PlainText);
}
