namespace HarmonyProxy.Harmony;

/// <summary>How a <see cref="HarmonyStreamParser"/> starts and how much it may buffer.</summary>
internal sealed record HarmonyParserOptions
{
    public static readonly HarmonyParserOptions Default = new();

    /// <summary>
    /// Start inside an answer body instead of a header. Used when llama-server already parsed the
    /// turn and <c>content</c> is meant to be clean: leaked tags are still recognised.
    /// </summary>
    public bool StartInContent { get; init; }

    /// <summary>The message the parser starts inside when <see cref="StartInContent"/> is set.</summary>
    public HarmonyMessageHeader InitialMessage { get; init; } = HarmonyMessageHeader.Continuation;

    /// <summary>
    /// Most characters held as header or header-less leading text before they are released
    /// (as content, or as the body of a header that lacked <c>&lt;|message|&gt;</c>).
    /// </summary>
    public int MaxHeaderChars { get; init; } = 4096;

    /// <summary>
    /// Answer text where tags are quoted rather than structure (llama-server's parsed
    /// <c>content</c>): a tag inside Markdown code or right after a quote mark passes intact.
    /// </summary>
    public bool LiteralTagsInCode { get; init; }

    /// <summary>
    /// Header-less text that has become neither a tag nor a header within this many characters
    /// is the answer: it streams from then on rather than wait for <see cref="MaxHeaderChars"/>.
    /// </summary>
    public int HeaderlessDecisionChars { get; init; } = 48;

    /// <summary>Edge case 31: inside a <c>final</c> body, a terminator followed by ordinary text is literal.</summary>
    public bool LiteralTerminatorsInFinal { get; init; } = true;
}
