using System.Text;
using System.Text.Json.Nodes;
using HarmonyProxy.Completions;
using HarmonyProxy.Preparation;
using HarmonyProxy.Tests.Completions;
using HarmonyProxy.Tests.Infrastructure;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Tests.Preparation;

/// <summary>Request fields the proxy rewrites or refuses before llama-server sees them, and upstream fields it passes back.</summary>
public sealed class RequestFieldsTests
{
    [Theory]
    [InlineData("""{"reasoning_effort":"high"}""", null, "high")]
    [InlineData("""{"reasoning_effort":"low","chat_template_kwargs":{"enable_thinking":true}}""", null, "low")]
    [InlineData("""{"reasoning_effort":"minimal"}""", null, "low")]
    [InlineData("""{"reasoning_effort":"none"}""", "high", "low")]
    [InlineData("""{"reasoning":{"effort":"medium"}}""", null, "medium")]
    [InlineData("""{}""", "high", "high")]
    [InlineData("""{"reasoning_effort":null}""", "medium", "medium")]
    [InlineData("""{"chat_template_kwargs":{"reasoning_effort":"low"}}""", "high", "low")]
    public void ReasoningEffort_IsWrittenIntoTheTemplateKwargs(string fields, string? deploymentDefault, string expected)
    {
        var prepared = Prepare(fields, new RequestPreparationOptions { DefaultReasoningEffort = deploymentDefault });

        Assert.Equal(expected, prepared["chat_template_kwargs"]!["reasoning_effort"]!.GetValue<string>());
        if (fields.Contains("enable_thinking", StringComparison.Ordinal))
        {
            Assert.True(prepared["chat_template_kwargs"]!["enable_thinking"]!.GetValue<bool>());
        }
    }

    [Fact]
    public void ReasoningEffort_NoneGiven_NoDefault_LeavesTheRequestAlone()
    {
        var prepared = Prepare("{}", new RequestPreparationOptions());

        Assert.Null(prepared["chat_template_kwargs"]);
        Assert.Null(prepared["reasoning_effort"]);
    }

    [Theory]
    [InlineData("""{"reasoning_effort":"extreme"}""", "reasoning_effort")]
    [InlineData("""{"reasoning_effort":3}""", "reasoning_effort")]
    [InlineData("""{"reasoning":{"effort":"max"}}""", "reasoning.effort")]
    [InlineData("""{"reasoning_effort":"high","chat_template_kwargs":"high"}""", "chat_template_kwargs")]
    [InlineData("""{"n":2}""", "n")]
    [InlineData("""{"n":0}""", "n")]
    [InlineData("""{"n":"two"}""", "n")]
    public void BadField_Is400NamingIt(string fields, string param)
    {
        var problem = Problem(fields);

        Assert.Equal(400, problem.Status);
        Assert.Equal(param, problem.Param);
    }

    [Theory]
    [InlineData("""{"n":1}""")]
    [InlineData("""{"n":null}""")]
    public void NOfOne_IsServed(string fields)
    {
        Assert.NotNull(Prepare(fields, new RequestPreparationOptions()));
    }

    [Fact]
    public void Logprobs_FromUpstream_PassThrough_Streamed()
    {
        var (stream, _) = TranslatorHarness.Run(
        [
            LlamaChunks.Role(),
            WithLogprobs(LlamaChunks.Content("<|channel|>final<|message|>"), "[]"),
            WithLogprobs(LlamaChunks.Content("Hi"), """[{"id":1,"token":"Hi","logprob":-0.1,"bytes":[72,105],"top_logprobs":[]}]"""),
            WithLogprobs(LlamaChunks.Content(" there"), """[{"id":2,"token":" there","logprob":-0.2,"bytes":[32],"top_logprobs":[]}]"""),
            LlamaChunks.Finish("stop"),
            LlamaChunks.Done,
        ]);

        var tokens = stream.Chunks
            .Select(chunk => chunk["choices"]?[0]?["logprobs"])
            .OfType<JsonObject>()
            .SelectMany(logprobs => logprobs["content"]!.AsArray())
            .Select(entry => entry!["token"]!.GetValue<string>())
            .ToList();
        Assert.Equal(["Hi", " there"], tokens);
        Assert.Equal("Hi there", stream.Content);
    }

    [Fact]
    public void Logprobs_FromUpstream_PassThrough_Json()
    {
        var accumulator = new CompletionAccumulator();
        var translator = new CompletionTranslator(accumulator, OutputOptions.Default, passUsage: true);
        TranslatorHarness.Relay(
            [
            LlamaChunks.Role(),
            WithLogprobs(LlamaChunks.Content("<|channel|>final<|message|>Hi"), """[{"id":1,"token":"Hi","logprob":-0.1,"bytes":[72,105],"top_logprobs":[]}]"""),
            WithLogprobs(LlamaChunks.Content("!"), """[{"id":2,"token":"!","logprob":-0.3,"bytes":[33],"top_logprobs":[]}]"""),
            LlamaChunks.Finish("stop"),
            ],
            translator);

        var choice = JsonNode.Parse(accumulator.ToJson())!["choices"]![0]!;

        Assert.Equal("Hi!", choice["message"]!["content"]!.GetValue<string>());
        Assert.Equal([-0.1, -0.3], choice["logprobs"]!["content"]!.AsArray().Select(entry => entry!["logprob"]!.GetValue<double>()));
    }

    [Fact]
    public void Logprobs_NoneFromUpstream_StayNull()
    {
        var accumulator = new CompletionAccumulator();
        var translator = new CompletionTranslator(accumulator, OutputOptions.Default, passUsage: true);
        translator.ProcessEvent(Encoding.UTF8.GetBytes(LlamaChunks.Content("Hello")));
        translator.Complete();

        Assert.Null(JsonNode.Parse(accumulator.ToJson())!["choices"]![0]!["logprobs"]);
    }

    /// <summary>The chunk with <c>logprobs.content</c> on its choice, after the delta, where llama-server puts it.</summary>
    private static string WithLogprobs(string chunk, string content)
    {
        var node = JsonNode.Parse(chunk)!.AsObject();
        node["choices"]![0]!.AsObject()["logprobs"] = new JsonObject { ["content"] = JsonNode.Parse(content) };
        return node.ToJsonString();
    }

    private static JsonObject Prepare(string fields, RequestPreparationOptions options)
    {
        var prepared = RequestPreparer.Prepare(Body(fields), options, out var problem);
        Assert.Null(problem);
        return JsonNode.Parse(prepared.UpstreamBody)!.AsObject();
    }

    private static RequestProblem Problem(string fields)
    {
        RequestPreparer.Prepare(Body(fields), new RequestPreparationOptions(), out var problem);
        return problem!;
    }

    private static JsonObject Body(string fields)
    {
        var body = JsonNode.Parse(fields)!.AsObject();
        body["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" });
        return body;
    }
}
