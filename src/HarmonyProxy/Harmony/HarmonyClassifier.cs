namespace HarmonyProxy.Harmony;

/// <summary>Where a message's text goes in an OpenAI response.</summary>
internal enum HarmonyMessageRole
{
    Content,
    Reasoning,
    ToolCall,

    /// <summary>A call to one of gpt-oss's built-in tools (<c>python</c>, <c>browser.*</c>, <c>container.*</c>), which the proxy cannot run: whether it becomes an offered function's call is the request's to say.</summary>
    BuiltInCall,
    Dropped,
}

/// <summary>The classification table of docs/harmony-format.md section 7.</summary>
internal static class HarmonyClassifier
{
    private const string FunctionsPrefix = "functions.";

    public static HarmonyMessageRole Classify(HarmonyMessageHeader header)
    {
        ArgumentNullException.ThrowIfNull(header);
        var recipient = header.Recipient;
        if (recipient is not null && recipient != "assistant")
        {
            // Built-ins (browser, python, container) were never declared by the IDE (edge case 23).
            return IsBuiltIn(recipient) ? HarmonyMessageRole.BuiltInCall : HarmonyMessageRole.ToolCall;
        }

        switch (header.Origin)
        {
            case HarmonyMessageOrigin.LeadingText:
                return HarmonyMessageRole.Reasoning;
            case HarmonyMessageOrigin.TrailingText:
            case HarmonyMessageOrigin.PlainText:
            case HarmonyMessageOrigin.Continuation:
                return HarmonyMessageRole.Content;
        }

        return header.Channel switch
        {
            "final" => HarmonyMessageRole.Content,
            // Preambles are for the user; commentary addressed to=assistant is a stray prefix (edge case 18).
            "commentary" => recipient is null ? HarmonyMessageRole.Content : HarmonyMessageRole.Reasoning,
            null => recipient is null ? HarmonyMessageRole.Content : HarmonyMessageRole.Reasoning,
            // analysis and unknown channels (edge case 25) are never shown as the answer.
            _ => HarmonyMessageRole.Reasoning,
        };
    }

    /// <summary>The OpenAI function name: the recipient without <c>functions.</c> (edge case 24 keeps bare names).</summary>
    public static string ToolName(string recipient)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        return recipient.StartsWith(FunctionsPrefix, StringComparison.Ordinal) ? recipient[FunctionsPrefix.Length..] : recipient;
    }

    public static bool IsBuiltIn(string recipient)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        return recipient == "python"
            || recipient.StartsWith("python.", StringComparison.Ordinal)
            || recipient.StartsWith("browser.", StringComparison.Ordinal)
            || recipient.StartsWith("container.", StringComparison.Ordinal);
    }
}
