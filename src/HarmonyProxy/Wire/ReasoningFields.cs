namespace HarmonyProxy.Wire;

/// <summary>The fields a chat completion carries reasoning in; clients read one or the other.</summary>
[Flags]
internal enum ReasoningFields
{
    /// <summary><c>reasoning_content</c> (llama.cpp and DeepSeek; Roo, Cline, Kilo, Continue read it).</summary>
    ReasoningContent = 1,

    /// <summary><c>reasoning</c> (OpenRouter and vLLM; Kilo reads it).</summary>
    Reasoning = 2,
}
