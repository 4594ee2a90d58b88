using System.Buffers;
using System.Text;
using HarmonyProxy.Tests.Infrastructure;
using HarmonyProxy.Wire;
using HarmonyProxy.Wire.Anthropic;

namespace HarmonyProxy.Tests.Wire;

public sealed class MessagesOutputTests
{
    [Fact]
    public void MessageStart_TakesThePromptSize_WhenTheAnswerBegins_NotWhenTheRequestWasMapped()
    {
        var size = 10;
        var buffer = new ArrayBufferWriter<byte>();
        using var output = new MessagesOutput(new MessagesContext("msg_1", "gpt-oss-20b", () => size, ShowThinking: true, static text => "sealed:" + text), buffer);

        // llama-server's count arrives while it processes the prompt, before the first chunk.
        size = 4321;
        output.Begin(new CompletionEnvelope("chatcmpl-1", "gpt-oss-20b", 0, null));
        output.Content("Hi");
        output.Finish(FinishReason.Stop, default);

        var message = MessagesStream.Assemble(Encoding.UTF8.GetString(buffer.WrittenSpan));
        Assert.Contains("\"input_tokens\":4321", Encoding.UTF8.GetString(buffer.WrittenSpan), StringComparison.Ordinal);
        Assert.Equal("Hi", message["content"]![0]!["text"]!.GetValue<string>());
    }
}
