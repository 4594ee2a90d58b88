namespace HarmonyProxy.Harmony;

/// <summary>The seven structural Harmony tags. Nothing else shaped like <c>&lt;|x|&gt;</c> is structural.</summary>
internal enum HarmonyTag
{
    None,
    Start,
    End,
    Message,
    Channel,
    Constrain,
    Return,
    Call,
}

/// <summary>Recognises the seven exact tags in text, including a tag cut off at the end of a delta.</summary>
internal static class HarmonyTags
{
    public const string Start = "<|start|>";
    public const string End = "<|end|>";
    public const string Message = "<|message|>";
    public const string Channel = "<|channel|>";
    public const string Constrain = "<|constrain|>";
    public const string Return = "<|return|>";
    public const string Call = "<|call|>";

    /// <summary>The longest tag; a held-back suffix is always shorter than this.</summary>
    public const int MaxLength = 13;

    public static string Text(HarmonyTag tag) => tag switch
    {
        HarmonyTag.Start => Start,
        HarmonyTag.End => End,
        HarmonyTag.Message => Message,
        HarmonyTag.Channel => Channel,
        HarmonyTag.Constrain => Constrain,
        HarmonyTag.Return => Return,
        HarmonyTag.Call => Call,
        _ => string.Empty,
    };

    /// <summary>
    /// Matches a tag at the start of <paramref name="text"/>, which begins with '&lt;'.
    /// Returns <see cref="TagMatch.Partial"/> when the text is a proper prefix of a tag and more
    /// input could complete it.
    /// </summary>
    public static TagMatch Match(ReadOnlySpan<char> text, out HarmonyTag tag)
    {
        tag = HarmonyTag.None;
        if (text.Length < 3)
        {
            return text.Length == 1 || text[1] == '|' ? TagMatch.Partial : TagMatch.None;
        }

        if (text[1] != '|')
        {
            return TagMatch.None;
        }

        var candidate = text[2] switch
        {
            's' => HarmonyTag.Start,
            'e' => HarmonyTag.End,
            'm' => HarmonyTag.Message,
            'r' => HarmonyTag.Return,
            'c' when text.Length < 4 => HarmonyTag.Channel, // decided below: "<|c" fits three tags
            'c' => text[3] switch
            {
                'h' => HarmonyTag.Channel,
                'o' => HarmonyTag.Constrain,
                'a' => HarmonyTag.Call,
                _ => HarmonyTag.None,
            },
            _ => HarmonyTag.None,
        };

        if (candidate == HarmonyTag.None)
        {
            return TagMatch.None;
        }

        if (text.Length < 4)
        {
            return TagMatch.Partial;
        }

        var full = Text(candidate);
        if (text.Length >= full.Length)
        {
            if (text.StartsWith(full, StringComparison.Ordinal))
            {
                tag = candidate;
                return TagMatch.Tag;
            }

            return TagMatch.None;
        }

        return full.AsSpan().StartsWith(text, StringComparison.Ordinal) ? TagMatch.Partial : TagMatch.None;
    }

    /// <summary>True when <paramref name="text"/> contains any of the seven tags.</summary>
    public static bool ContainsAny(ReadOnlySpan<char> text)
    {
        var index = 0;
        while (true)
        {
            var at = text[index..].IndexOf("<|", StringComparison.Ordinal);
            if (at < 0)
            {
                return false;
            }

            index += at;
            if (Match(text[index..], out _) == TagMatch.Tag)
            {
                return true;
            }

            index += 2;
        }
    }
}

internal enum TagMatch
{
    None,
    Partial,
    Tag,
}
