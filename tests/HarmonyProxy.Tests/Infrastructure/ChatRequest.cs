using System.Text;

namespace HarmonyProxy.Tests.Infrastructure;

/// <summary>The chat completion body most tests send: a model, streaming or not, one user "hi" unless the test gives its own messages.</summary>
internal static class ChatRequest
{
    public const string Hi = """[{"role":"user","content":"hi"}]""";

    /// <param name="extra">More top-level fields, as JSON text starting with a comma.</param>
    public static StringContent Body(bool stream, string messages = Hi, string extra = "") =>
        new($$"""{"model":"gpt-oss-20b","stream":{{(stream ? "true" : "false")}},"messages":{{messages}}{{extra}}}""", Encoding.UTF8, "application/json");
}
