using System.Text;

namespace HarmonyProxy.Benchmarks;

/// <summary>Realistic gpt-oss output: a long analysis then a long final answer, about 20 KB.</summary>
internal static class Transcripts
{
    private const string ReasoningSentence =
        "We need to figure out why the build fails; the error mentions a missing reference to System.Text.Json, so check the csproj and the lock file. ";

    private const string AnswerSentence =
        "The build fails because `HarmonyProxy.csproj` references a package version that is not restored; run `dotnet restore` and pin the version in `Directory.Packages.props`.\n";

    public static string LongRaw { get; } = Build();

    private static string Build()
    {
        var text = new StringBuilder("<|channel|>analysis<|message|>");
        while (text.Length < 9_000)
        {
            text.Append(ReasoningSentence);
        }

        text.Append("<|end|><|start|>assistant<|channel|>final<|message|>");
        while (text.Length < 20_000)
        {
            text.Append(AnswerSentence);
        }

        return text.ToString();
    }

    /// <summary>Cuts <paramref name="text"/> into deltas of <paramref name="size"/> characters, as llama-server streams tokens.</summary>
    public static string[] Deltas(string text, int size)
    {
        var deltas = new string[(text.Length + size - 1) / size];
        for (var i = 0; i < deltas.Length; i++)
        {
            var start = i * size;
            deltas[i] = text.Substring(start, Math.Min(size, text.Length - start));
        }

        return deltas;
    }
}
