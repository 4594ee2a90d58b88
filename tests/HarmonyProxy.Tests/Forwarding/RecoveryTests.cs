using System.Net;
using System.Text.Json.Nodes;
using HarmonyProxy.Tests.Infrastructure;
using LlamaServerSim;
using OpenAI.Chat;

namespace HarmonyProxy.Tests.Forwarding;

/// <summary>
/// llama-server's own gpt-oss failures, recovered by asking again differently: the simulator
/// fails as llama-server does, and its count of received requests shows what was resent.
/// </summary>
public sealed class RecoveryTests
{
    private const string Greeting = "Hello! I am a simulated gpt-oss behind llama-server. How can I help you today?";
    private const string RecoveredSeries = """harmony_proxy_recoveries_total{kind="raw_reparse",outcome="recovered"}""";

    public static TheoryData<SimParseFailure, bool> ParseFailures => new()
    {
        { SimParseFailure.BeforeOutput, true },
        { SimParseFailure.BeforeOutput, false },
        { SimParseFailure.AfterReasoning, false },
    };

    [Theory]
    [MemberData(nameof(ParseFailures))]
    public async Task ParseFailure_IsAskedAgainRaw_AndTheClientSeesANormalAnswer(SimParseFailure failure, bool stream)
    {
        // Reasoning hidden (none): a failure after the reasoning still has nothing visible sent.
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Parsed, new()
        {
            ["HarmonyProxy:Output:Reasoning"] = "none",
            ["Serilog:MinimumLevel:Default"] = "Information",
        });
        harness.Simulator.Options = harness.Simulator.Options with { ParseFailure = failure };
        var logged = harness.Proxy.LogEvents.WhenLogged("CompletionFinished");

        using var response = await harness.Http.PostAsync("/v1/chat/completions", Json(stream, """[{"role":"user","content":"hi"}]"""));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        if (stream)
        {
            var parsed = ClientStream.Parse(text);
            Assert.Equal(Greeting, parsed.Content);
            Assert.Null(parsed.Error);
            Assert.Equal("stop", parsed.FinishReason);
        }
        else
        {
            Assert.Equal(Greeting, JsonNode.Parse(text)!["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        }

        var requests = harness.Simulator.Requests.ToList();
        Assert.Equal(2, requests.Count);
        Assert.Null(requests[0]["reasoning_format"]);
        Assert.Equal("none", requests[1]["reasoning_format"]!.GetValue<string>());
        Assert.False(requests[1]["parse_tool_calls"]!.GetValue<bool>());
        Assert.Equal(1, await harness.Proxy.MetricAsync(RecoveredSeries));
        var summary = await logged.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("\"raw_reparse\"", summary.Properties["Recovery"].ToString());
        Assert.Equal("2", summary.Properties["UpstreamAttempts"].ToString());
    }

    [Fact]
    public async Task ParseFailure_ToolCallTurn_SdkGetsANativeToolCall()
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Parsed);
        harness.Simulator.Options = harness.Simulator.Options with { ParseFailure = SimParseFailure.BeforeOutput };
        var readFile = ChatTool.CreateFunctionTool("read_file", "Read a file", BinaryData.FromString("""{"type":"object","properties":{"path":{"type":"string"}}}"""));

        ChatCompletion completion = await harness.Chat.CompleteChatAsync([new UserChatMessage("read the readme")], new ChatCompletionOptions { Tools = { readFile } });

        Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
        var call = Assert.Single(completion.ToolCalls);
        Assert.Equal("read_file", call.FunctionName);
        Assert.Equal("README.md", JsonNode.Parse(call.FunctionArguments.ToString())!["path"]!.GetValue<string>());
        Assert.Equal(2, harness.Simulator.ChatRequestCount);
    }

    [Fact]
    public async Task ParseFailure_RawRequestFailsToo_IsNotRepeated()
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Parsed);
        harness.Simulator.Options = harness.Simulator.Options with { ParseFailure = SimParseFailure.BeforeOutput };
        harness.Simulator.Enqueue(new SimScript(), new SimScript { FailStatus = 500, FailMessage = LlamaServerSimulator.ParseFailureMessage });

        using var response = await harness.Http.PostAsync("/v1/chat/completions", Json(stream: false, """[{"role":"user","content":"hi"}]"""));
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("Failed to parse input", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(2, harness.Simulator.ChatRequestCount);
        Assert.Equal(1, await harness.Proxy.MetricAsync("""harmony_proxy_recoveries_total{kind="raw_reparse",outcome="failed"}"""));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ContentAndThinkingWithToolCalls_AreNeverSentTogether_SoTheTemplateNeverRefuses(bool stream)
    {
        // llama.cpp #19701: the template refuses a tool-call message with both. Harmony's rule
        // keeps this turn's reasoning, and its text joins the reasoning before the first send.
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Parsed);
        harness.Simulator.Options = harness.Simulator.Options with { TemplateChecks = true };
        const string History = """
            [{"role":"user","content":"read it"},
             {"role":"assistant","content":"I'll read the file.","reasoning_content":"Need the README.","tool_calls":[{"id":"c1","type":"function","function":{"name":"read_file","arguments":"{\"path\":\"README.md\"}"}}]},
             {"role":"tool","tool_call_id":"c1","content":"It is a proxy."}]
            """;

        using var response = await harness.Http.PostAsync("/v1/chat/completions", Json(stream, History));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var content = stream ? ClientStream.Parse(text).Content : JsonNode.Parse(text)!["choices"]![0]!["message"]!["content"]!.GetValue<string>();
        Assert.Equal("The tool said: It is a proxy.", content);
        var sent = Assert.Single(harness.Simulator.Requests)["messages"]![1]!;
        Assert.Null(sent["content"]);
        Assert.Equal("Need the README.\n\nI'll read the file.", sent["reasoning_content"]!.GetValue<string>());
        Assert.Equal(0, await harness.Proxy.MetricAsync("""harmony_proxy_recoveries_total{kind="history_repair",outcome="recovered"}"""));
    }

    [Fact]
    public async Task TemplateError_TagsInContent_AreRepairedEvenWithHistoryCleaningOff()
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Parsed, new() { ["HarmonyProxy:Requests:CleanHistory"] = "false" });
        harness.Simulator.Options = harness.Simulator.Options with { TemplateChecks = true };
        const string History = """
            [{"role":"user","content":"hi"},
             {"role":"assistant","content":"<|channel|>analysis<|message|>Greet.<|end|><|start|>assistant<|channel|>final<|message|>Hello!"},
             {"role":"user","content":"hi again"}]
            """;

        using var response = await harness.Http.PostAsync("/v1/chat/completions", Json(stream: false, History));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var requests = harness.Simulator.Requests.ToList();
        Assert.Equal(2, requests.Count);
        Assert.Equal("Hello!", requests[1]["messages"]![1]!["content"]!.GetValue<string>());
    }

    [Fact]
    public async Task TemplateError_NothingToRepair_IsNotResent()
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Parsed);
        harness.Simulator.Enqueue(new SimScript { FailStatus = 500, FailMessage = LlamaServerSimulator.ThinkingWithContentMessage });

        using var response = await harness.Http.PostAsync("/v1/chat/completions", Json(stream: false, """[{"role":"user","content":"hi"}]"""));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(1, harness.Simulator.ChatRequestCount);
    }

    public static TheoryData<SimScript, HttpStatusCode> DeterministicFailures => new()
    {
        { new SimScript { FailStatus = 500, FailMessage = "Unsupported tool type" }, HttpStatusCode.BadGateway },
        { new SimScript { FailStatus = 400, FailMessage = "request (9000 tokens) exceeds the available context size (8192 tokens), try increasing it" }, HttpStatusCode.BadRequest },
        { new SimScript { FailStatus = 404, FailMessage = "File Not Found" }, HttpStatusCode.NotFound },
    };

    [Theory]
    [MemberData(nameof(DeterministicFailures))]
    public async Task DeterministicError_IsNotResent(SimScript script, HttpStatusCode expected)
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Parsed, new() { ["HarmonyProxy:Upstream:MaxRetries"] = "3" });
        harness.Simulator.Enqueue(script, new SimScript(), new SimScript(), new SimScript());

        using var response = await harness.Http.PostAsync("/v1/chat/completions", Json(stream: true, """[{"role":"user","content":"hi"}]"""));

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(1, harness.Simulator.ChatRequestCount);
    }

    [Fact]
    public async Task DeterministicErrorEvent_BeforeOutput_IsNotResent()
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Raw, new() { ["HarmonyProxy:Upstream:MaxRetries"] = "3" });
        harness.Simulator.Enqueue(new SimScript { ErrorAfterTokens = 1, ErrorMessage = "slot 0 crashed: out of memory" }, new SimScript(), new SimScript(), new SimScript());

        using var response = await harness.Http.PostAsync("/v1/chat/completions", Json(stream: true, """[{"role":"user","content":"hi"}]"""));
        var parsed = ClientStream.Parse(await response.Content.ReadAsStringAsync());

        Assert.Contains("out of memory", parsed.Error!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(1, harness.Simulator.ChatRequestCount);
    }

    [Fact]
    public async Task TemplateErrors_DoNotOpenTheCircuitBreaker()
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Parsed, new()
        {
            ["HarmonyProxy:Upstream:CircuitBreakerMinimumThroughput"] = "2",
            ["HarmonyProxy:Upstream:MaxRetries"] = "0",
        });
        for (var i = 0; i < 4; i++)
        {
            harness.Simulator.Enqueue(new SimScript { FailStatus = 500, FailMessage = "Unsupported tool type" });
        }

        for (var i = 0; i < 4; i++)
        {
            using var failed = await harness.Http.PostAsync("/v1/chat/completions", Json(stream: false, """[{"role":"user","content":"hi"}]"""));
            Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        }

        ChatCompletion healthy = await harness.Chat.CompleteChatAsync([new UserChatMessage("hi")]);

        Assert.Equal(Greeting, healthy.Content[0].Text);
        Assert.Equal(5, harness.Simulator.ChatRequestCount);
    }

    private static StringContent Json(bool stream, string messages) => ChatRequest.Body(stream, messages);
}
