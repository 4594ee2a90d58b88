using System.Text;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Tests.Wire;

/// <summary>llama-server's own <c>/completion</c> stream read into the chunk handler: text per token, the last event the end, its <c>stop_type</c> the finish.</summary>
public sealed class NativeCompletionChunkTests
{
    [Fact]
    public void TokensThenTheStopEvent()
    {
        var handler = new Recorder();
        var reader = new LlamaServerChunkReader();

        Assert.Equal(UpstreamEventKind.Chunk, reader.ReadNativeCompletion("""{"index":0,"content":"<|end|>","tokens":[],"stop":false,"id_slot":0}"""u8, handler));
        Assert.Equal(UpstreamEventKind.Chunk, reader.ReadNativeCompletion("""{"index":0,"content":" Hello","stop":false}"""u8, handler));
        Assert.Equal(UpstreamEventKind.Done, reader.ReadNativeCompletion("""{"index":0,"content":"","stop":true,"stop_type":"eos","tokens_predicted":2}"""u8, handler));

        Assert.Equal("<|end|> Hello", handler.Text.ToString());
        Assert.Equal("stop", handler.Finish);
    }

    [Theory]
    [InlineData("limit", "length")]
    [InlineData("word", "stop")]
    [InlineData("eos", "stop")]
    public void TheStopType_IsTheFinish(string stopType, string finish)
    {
        var handler = new Recorder();

        new LlamaServerChunkReader().ReadNativeCompletion(Encoding.UTF8.GetBytes($$"""{"content":"x","stop":true,"stop_type":"{{stopType}}"}"""), handler);

        Assert.Equal(finish, handler.Finish);
        Assert.Equal("x", handler.Text.ToString());
    }

    [Fact]
    public void AnErrorEvent_IsAnError()
    {
        var handler = new Recorder();

        var kind = new LlamaServerChunkReader().ReadNativeCompletion("""{"error":{"code":500,"message":"Failed to parse input at pos 3","type":"server_error"}}"""u8, handler);

        Assert.Equal(UpstreamEventKind.Error, kind);
        Assert.Equal("Failed to parse input at pos 3", handler.Failure!.Message);
    }

    private sealed class Recorder : ILlamaServerChunkHandler
    {
        public StringBuilder Text { get; } = new();

        public string? Finish { get; private set; }

        public UpstreamStreamError? Failure { get; private set; }

        public bool AwaitingIdentity => false;

        public void Identity(string? id, string? model, long created, string? systemFingerprint)
        {
        }

        public void Content(ReadOnlySpan<char> text) => Text.Append(text);

        public void Reasoning(ReadOnlySpan<char> text) => Text.Append(text);

        public void ToolCall(int index, string? id, string? name, ReadOnlySpan<char> arguments)
        {
        }

        public void Logprobs(ReadOnlySpan<byte> contentArrayJson)
        {
        }

        public void Usage(ReadOnlySpan<byte> usageJson)
        {
        }

        public void FinishReason(string reason) => Finish = reason;

        public void Error(UpstreamStreamError error) => Failure = error;
    }
}
