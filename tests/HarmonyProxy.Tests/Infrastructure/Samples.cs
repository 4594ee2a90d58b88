namespace HarmonyProxy.Tests.Infrastructure;

/// <summary>Raw gpt-oss outputs shared by the translator and endpoint tests.</summary>
internal static class Samples
{
    public const string AnalysisThenFinal =
        "<|channel|>analysis<|message|>We need to greet.<|end|><|start|>assistant<|channel|>final<|message|>Hello there!";

    public const string ToolCall =
        "<|channel|>analysis<|message|>Need the file.<|end|><|start|>assistant<|channel|>commentary to=functions.read_file <|constrain|>json<|message|>{\"path\": \"a.py\", \"mode\": \"r\"}";
}
