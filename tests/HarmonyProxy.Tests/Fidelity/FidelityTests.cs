using System.ClientModel;
using System.Net;
using System.Text.Json.Nodes;
using HarmonyProxy.Tests.Infrastructure;
using LlamaServerSim;
using OpenAI.Chat;

namespace HarmonyProxy.Tests.Fidelity;

/// <summary>What hostile testing found (issue 14), end to end: the real proxy on loopback in front of the simulator.</summary>
public sealed class FidelityTests
{
    private const string Reasoning = "The user asks for a long essay. Plan the sections first: history, design, and the open questions.";

    [Theory]
    [InlineData("length")]
    [InlineData("stop")]
    public async Task AnalysisOnlyTurn_Parsed_Json_ContentIsNull_ReasoningOnce(string finish)
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Parsed);
        harness.Simulator.Enqueue(new SimScript { Transcript = "analysis_only", FinishReason = finish });

        using var response = await harness.Http.PostAsync("/v1/chat/completions", Json(stream: false));
        var choice = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["choices"]![0]!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(choice["message"]!["content"]);
        Assert.Equal(Reasoning, choice["message"]!["reasoning_content"]!.GetValue<string>());
        Assert.Equal(finish, choice["finish_reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task AnalysisOnlyTurn_Parsed_Stream_NoContentDeltas()
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Parsed);
        harness.Simulator.Enqueue(new SimScript { Transcript = "analysis_only", FinishReason = "length" });

        using var response = await harness.Http.PostAsync("/v1/chat/completions", Json(stream: true));
        var stream = ClientStream.Parse(await response.Content.ReadAsStringAsync());

        Assert.Null(stream.Content);
        Assert.Equal(Reasoning, stream.Reasoning);
        Assert.Equal("length", stream.FinishReason);
        // The role delta carries OpenAI's "content": "" and nothing else does.
        Assert.DoesNotContain(stream.Chunks, chunk => chunk["choices"]?[0]?["delta"] is JsonObject delta && delta["role"] is null && delta.ContainsKey("content"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AnalysisOnlyTurn_Parsed_ThinkTags_ReasoningAppearsOnce(bool stream)
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Parsed, new() { ["HarmonyProxy:Output:Reasoning"] = "think_tags" });
        harness.Simulator.Enqueue(new SimScript { Transcript = "analysis_only", FinishReason = "length" });

        using var response = await harness.Http.PostAsync("/v1/chat/completions", Json(stream));
        var text = await response.Content.ReadAsStringAsync();
        var content = stream ? ClientStream.Parse(text).Content : JsonNode.Parse(text)!["choices"]![0]!["message"]!["content"]!.GetValue<string>();

        Assert.Equal("<think>\n" + Reasoning + "\n</think>\n\n", content);
    }

    [Fact]
    public async Task AnalysisOnlyTurn_Parsed_ReasoningHidden_ContentIsNull()
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Parsed, new() { ["HarmonyProxy:Output:Reasoning"] = "none" });
        harness.Simulator.Enqueue(new SimScript { Transcript = "analysis_only", FinishReason = "length" });

        using var response = await harness.Http.PostAsync("/v1/chat/completions", Json(stream: false));
        var message = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["choices"]![0]!["message"]!;

        Assert.Null(message["content"]);
        Assert.Null(message["reasoning_content"]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ContextOverflow_ReachesTheSdkAsContextLengthExceeded(bool stream)
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Parsed);
        harness.Simulator.Options = harness.Simulator.Options with { ContextSize = 16 };

        var exception = await Assert.ThrowsAsync<ClientResultException>(async () =>
        {
            if (stream)
            {
                await foreach (var update in harness.Chat.CompleteChatStreamingAsync([new UserChatMessage("a long conversation")]))
                {
                    Assert.Fail("no update expected");
                }
            }
            else
            {
                await harness.Chat.CompleteChatAsync([new UserChatMessage("a long conversation")]);
            }
        });

        Assert.Equal(400, exception.Status);
        var error = JsonNode.Parse(exception.GetRawResponse()!.Content.ToString())!["error"]!;
        Assert.Equal("context_length_exceeded", error["code"]!.GetValue<string>());
        Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
        Assert.Equal("messages", error["param"]!.GetValue<string>());
        Assert.Matches(@"maximum context length is 16 tokens\. However, your messages resulted in \d+ tokens", error["message"]!.GetValue<string>());
        Assert.Equal(1, harness.Simulator.ChatRequestCount);
    }

    [Fact]
    public async Task LegacyErrorFraming_AfterOutput_IsAnErrorNotACleanStop()
    {
        await using var harness = await LoopbackHarness.StartAsync();
        harness.Simulator.Enqueue(new SimScript { RawText = "<|channel|>final<|message|>One two three four five six", ErrorAfterTokens = 6, ErrorMessage = "slot 0: out of memory", LegacyErrorFraming = true });

        using var response = await harness.Http.PostAsync("/v1/chat/completions", Json(stream: true));
        var stream = ClientStream.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal("One two three", stream.Content);
        Assert.Null(stream.FinishReason);
        Assert.Contains("out of memory", stream.Error!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(stream.EndedWithDone);
    }

    [Fact]
    public async Task LegacyErrorFraming_BeforeOutput_IsAnHttpError()
    {
        await using var harness = await LoopbackHarness.StartAsync();
        harness.Simulator.Enqueue(new SimScript { RawText = "<|channel|>final<|message|>One two", ErrorAfterTokens = 0, ErrorMessage = "slot 0: out of memory", LegacyErrorFraming = true });

        using var response = await harness.Http.PostAsync("/v1/chat/completions", Json(stream: false));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("out of memory", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NAboveOne_Is400_BeforeLlamaServerIsCalled()
    {
        await using var harness = await LoopbackHarness.StartAsync();

        using var response = await harness.Http.PostAsync("/v1/chat/completions", Json(stream: false, ",\"n\":3"));
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("n", error["param"]!.GetValue<string>());
        Assert.Equal(0, harness.Simulator.ChatRequestCount);
    }

    [Fact]
    public async Task ReasoningEffort_ReachesLlamaServerAsATemplateKwarg_WithTheDeploymentDefault()
    {
        await using var harness = await LoopbackHarness.StartAsync(settings: new() { ["HarmonyProxy:Requests:DefaultReasoningEffort"] = "high" });

        using var withDefault = await harness.Http.PostAsync("/v1/chat/completions", Json(stream: false, ",\"chat_template_kwargs\":{\"custom\":1}"));
        using var fromClient = await harness.Http.PostAsync("/v1/chat/completions", Json(stream: false, ",\"reasoning_effort\":\"minimal\""));

        var requests = harness.Simulator.Requests.ToList();
        Assert.Equal("high", requests[0]["chat_template_kwargs"]!["reasoning_effort"]!.GetValue<string>());
        Assert.Equal(1, requests[0]["chat_template_kwargs"]!["custom"]!.GetValue<int>());
        Assert.Equal("low", requests[1]["chat_template_kwargs"]!["reasoning_effort"]!.GetValue<string>());
        Assert.Equal("low", requests[1]["reasoning_effort"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(SimFlavour.Raw)]
    [InlineData(SimFlavour.Parsed)]
    public async Task ToolCallTheClientDidNotOffer_IsNotANativeCall(SimFlavour flavour)
    {
        await using var harness = await LoopbackHarness.StartAsync(flavour);
        harness.Simulator.Enqueue(new SimScript { Transcript = "tool_call" });

        using var response = await harness.Http.PostAsync("/v1/chat/completions", Json(stream: true));
        var stream = ClientStream.Parse(await response.Content.ReadAsStringAsync());

        Assert.Empty(stream.ToolCalls);
        Assert.Equal("stop", stream.FinishReason);
        Assert.Equal(1, await harness.Proxy.MetricAsync("harmony_proxy_tool_calls_dropped_total"));
        Assert.Equal(0, await harness.Proxy.MetricAsync("harmony_proxy_tool_calls_total"));
    }

    [Fact]
    public async Task UpstreamWithoutUsage_StreamAskingForIt_GetsAnEstimatedUsageChunk()
    {
        await using var harness = await LoopbackHarness.StartAsync();
        harness.Simulator.Options = harness.Simulator.Options with { OmitUsage = true };

        using var response = await harness.Http.PostAsync("/v1/chat/completions", Json(stream: true, ",\"stream_options\":{\"include_usage\":true}"));
        var stream = ClientStream.Parse(await response.Content.ReadAsStringAsync());

        Assert.NotNull(stream.Usage);
        Assert.Null(stream.Usage!["estimated"]);
        Assert.True(stream.Usage["completion_tokens"]!.GetValue<int>() > 10);
        Assert.True(stream.Usage["prompt_tokens"]!.GetValue<int>() > 0);
        Assert.Equal(stream.Usage["prompt_tokens"]!.GetValue<int>() + stream.Usage["completion_tokens"]!.GetValue<int>(), stream.Usage["total_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task UpstreamWithoutUsage_Json_AlwaysHasUsage()
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Parsed);
        harness.Simulator.Options = harness.Simulator.Options with { OmitUsage = true };

        using var response = await harness.Http.PostAsync("/v1/chat/completions", Json(stream: false));
        var usage = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["usage"]!;

        Assert.Null(usage["estimated"]);
        Assert.True(usage["completion_tokens"]!.GetValue<int>() > 10);
        Assert.True(usage["completion_tokens_details"]!["reasoning_tokens"]!.GetValue<int>() > 0);
    }

    [Fact]
    public async Task UpstreamUsage_IsPassedAsIs_NotEstimated()
    {
        await using var harness = await LoopbackHarness.StartAsync();

        using var response = await harness.Http.PostAsync("/v1/chat/completions", Json(stream: true, ",\"stream_options\":{\"include_usage\":true}"));
        var stream = ClientStream.Parse(await response.Content.ReadAsStringAsync());

        Assert.Null(stream.Usage!["estimated"]);
        Assert.True(stream.Usage["completion_tokens"]!.GetValue<int>() > 0);
        Assert.InRange(stream.Usage["completion_tokens_details"]!["reasoning_tokens"]!.GetValue<int>(), 1, stream.Usage["completion_tokens"]!.GetValue<int>() - 1);
    }

    private static StringContent Json(bool stream, string extra = "") => ChatRequest.Body(stream, extra: extra);
}
