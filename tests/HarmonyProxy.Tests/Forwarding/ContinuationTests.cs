using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using HarmonyProxy.Completions;
using HarmonyProxy.Tests.Infrastructure;
using LlamaServerSim;

namespace HarmonyProxy.Tests.Forwarding;

/// <summary>
/// llama-server's parser fails after the client was shown reasoning (llama.cpp #26381): the turn
/// goes on where it stopped: the prompt from <c>/apply-template</c>, the analysis so far, and
/// <c>/completion</c> continues it; the client sees its reasoning go on and the answer arrive,
/// nothing repeated, in every API. Without <c>/apply-template</c> the turn starts over after a
/// visible break. Both spend the one retry budget.
/// </summary>
public sealed class ContinuationTests
{
    private const string Reasoning = "The user greets us. We should answer briefly and offer help.";
    private const string Greeting = "Hello! I am a simulated gpt-oss behind llama-server. How can I help you today?";
    private const string Hi = """[{"role":"user","content":"hi"}]""";

    [Theory]
    [InlineData(null)]
    [InlineData(4)]
    public async Task Chat_Stream_TheReasoningGoesOn_AndTheAnswerArrives_NothingRepeated(int? failAfterTokens)
    {
        await using var harness = await Broken(failAfterTokens);
        var logged = harness.Proxy.LogEvents.WhenLogged("CompletionFinished");

        using var response = await harness.Http.PostAsync("/v1/chat/completions", ChatRequest.Body(stream: true, Hi));
        var stream = ClientStream.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Reasoning, stream.Reasoning);
        Assert.Equal(Greeting, stream.Content);
        Assert.Null(stream.Error);
        Assert.Equal("stop", stream.FinishReason);
        Assert.True(stream.EndedWithDone);
        Assert.Equal(1, harness.Simulator.ChatRequestCount);
        Assert.Equal(["/apply-template", "/completion"], harness.Simulator.OtherRequests.Select(request => request.Path));
        var continuation = JsonNode.Parse(harness.Simulator.OtherRequests.Last().Body)!;
        var prompt = continuation["prompt"]!.GetValue<string>();
        Assert.Contains("<|start|>assistant<|channel|>analysis<|message|>The", prompt, StringComparison.Ordinal);
        Assert.Equal(failAfterTokens is null, prompt.EndsWith(Reasoning, StringComparison.Ordinal));
        Assert.True(continuation["stream"]!.GetValue<bool>());
        Assert.Contains("<|call|>", continuation["stop"]!.AsArray().Select(stop => stop!.GetValue<string>()));
        Assert.Equal(1, await harness.Proxy.MetricAsync("""harmony_proxy_recoveries_total{kind="continuation",outcome="recovered"}"""));
        var summary = await logged.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("\"continuation\"", summary.Properties["Recovery"].ToString());
        Assert.Equal("2", summary.Properties["UpstreamAttempts"].ToString());
    }

    [Fact]
    public async Task Responses_Stream_CompletesWithTheWholeReasoningAndTheAnswer()
    {
        await using var harness = await Broken();

        using var response = await harness.Http.PostAsync("/v1/responses", ResponsesStream.Body("""{"model":"gpt-oss-20b","input":"hi","stream":true}"""));
        var stream = ResponsesStream.Parse(await response.Content.ReadAsStringAsync());

        Assert.DoesNotContain("response.failed", stream.Names);
        Assert.Equal("completed", stream.Final["status"]!.GetValue<string>());
        var output = stream.Final["output"]!.AsArray();
        Assert.Equal(Reasoning, output.Single(item => item!["type"]!.GetValue<string>() == "reasoning")!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(Greeting, output.Single(item => item!["type"]!.GetValue<string>() == "message")!["content"]![0]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task Messages_Stream_ThinkingThenText()
    {
        await using var harness = await Broken();

        using var response = await harness.Http.PostAsync("/v1/messages", new StringContent("""{"model":"gpt-oss-20b","max_tokens":1024,"stream":true,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        var message = MessagesStream.Assemble(await response.Content.ReadAsStringAsync());

        var content = message["content"]!.AsArray();
        Assert.Equal(Reasoning, content[0]!["thinking"]!.GetValue<string>());
        Assert.Equal(Greeting, content[1]!["text"]!.GetValue<string>());
        Assert.Equal("end_turn", message["stop_reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Chat_Json_IsAnsweredWholeByTheRawReparse()
    {
        // Nothing was sent to a JSON client yet: the turn is simply asked again raw.
        await using var harness = await Broken();

        using var response = await harness.Http.PostAsync("/v1/chat/completions", ChatRequest.Body(stream: false, Hi));
        var message = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["choices"]![0]!["message"]!;

        Assert.Equal(Greeting, message["content"]!.GetValue<string>());
        Assert.Equal(Reasoning, message["reasoning_content"]!.GetValue<string>());
        Assert.Equal(2, harness.Simulator.ChatRequestCount);
        Assert.Equal(1, await harness.Proxy.MetricAsync("""harmony_proxy_recoveries_total{kind="raw_reparse",outcome="recovered"}"""));
    }

    [Fact]
    public async Task Responses_Json_IsAnsweredWhole()
    {
        await using var harness = await Broken();

        using var response = await harness.Http.PostAsync("/v1/responses", ResponsesStream.Body("""{"model":"gpt-oss-20b","input":"hi"}"""));
        var output = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["output"]!.AsArray();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Reasoning, output.Single(item => item!["type"]!.GetValue<string>() == "reasoning")!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(Greeting, output.Single(item => item!["type"]!.GetValue<string>() == "message")!["content"]![0]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task Messages_Json_IsAnsweredWhole()
    {
        await using var harness = await Broken();

        using var response = await harness.Http.PostAsync("/v1/messages", new StringContent("""{"model":"gpt-oss-20b","max_tokens":1024,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        var content = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["content"]!.AsArray();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Reasoning, content[0]!["thinking"]!.GetValue<string>());
        Assert.Equal(Greeting, content[1]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task WithoutApplyTemplate_TheTurnStartsOverAfterAVisibleBreak()
    {
        await using var harness = await Broken();
        harness.Simulator.Options = harness.Simulator.Options with { ApplyTemplateAvailable = false };

        using var response = await harness.Http.PostAsync("/v1/chat/completions", ChatRequest.Body(stream: true, Hi));
        var stream = ClientStream.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(Reasoning + CompletionTranslator.StartOverNotice + Reasoning, stream.Reasoning);
        Assert.Equal(Greeting, stream.Content);
        Assert.Null(stream.Error);
        var requests = harness.Simulator.Requests.ToList();
        Assert.Equal(2, requests.Count);
        Assert.Equal("none", requests[1]["reasoning_format"]!.GetValue<string>());
        Assert.Equal(1, await harness.Proxy.MetricAsync("""harmony_proxy_recoveries_total{kind="start_over",outcome="recovered"}"""));
    }

    [Fact]
    public async Task NoRetriesLeft_TheFailureIsTheEnding()
    {
        await using var harness = await Broken(settings: new() { ["HarmonyProxy:Upstream:MaxRetries"] = "0" });

        using var response = await harness.Http.PostAsync("/v1/chat/completions", ChatRequest.Body(stream: true, Hi));
        var stream = ClientStream.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(Reasoning, stream.Reasoning);
        Assert.Contains("Failed to parse input", stream.Error!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(stream.EndedWithDone);
        Assert.Empty(harness.Simulator.OtherRequests);
    }

    /// <summary>llama-server with its own parsing, failing the turn after its reasoning (or after a few tokens of it).</summary>
    private static async Task<LoopbackHarness> Broken(int? failAfterTokens = null, Dictionary<string, string?>? settings = null)
    {
        settings ??= [];
        settings["Serilog:MinimumLevel:Default"] = "Information";
        var harness = await LoopbackHarness.StartAsync(SimFlavour.Parsed, settings);
        if (failAfterTokens is { } tokens)
        {
            harness.Simulator.Enqueue(new SimScript { Flavour = SimFlavour.Parsed, ErrorMessage = LlamaServerSimulator.ParseFailureMessage, ErrorAfterTokens = tokens });
        }
        else
        {
            harness.Simulator.Options = harness.Simulator.Options with { ParseFailure = SimParseFailure.AfterReasoning };
        }

        return harness;
    }
}
