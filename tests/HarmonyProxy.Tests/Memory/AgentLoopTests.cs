using System.Net;
using System.Text.Json.Nodes;
using HarmonyProxy.Tests.Infrastructure;
using LlamaServerSim;

namespace HarmonyProxy.Tests.Memory;

/// <summary>The loop guard, the reasoning output options in every dialect, and client profiles, over loopback.</summary>
public sealed class AgentLoopTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ReasoningThatRepeatsItself_EndsTheGeneration_AsItsOwnWatchdog()
    {
        await using var harness = await LoopbackHarness.StartAsync();
        var loop = string.Concat(Enumerable.Repeat("We must re-read the file before answering, the content could differ from before. ", 200));
        harness.Simulator.Enqueue(new SimScript
        {
            RawText = "<|channel|>analysis<|message|>" + loop + "<|end|><|start|>assistant<|channel|>final<|message|>Never reached.",
        });

        using var response = await harness.Http.PostAsync("/v1/chat/completions", ChatRequest.Body(stream: true));
        var stream = ClientStream.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal("length", stream.FinishReason);
        Assert.True(stream.EndedWithDone);
        Assert.Null(stream.Content);
        Assert.True(stream.Reasoning!.Length < loop.Length / 4, $"{stream.Reasoning.Length} reasoning characters relayed");
        Assert.Equal(1, await harness.Proxy.MetricAsync("harmony_proxy_watchdog_terminations_total{kind=\"reasoning_loop\"}"));
        Assert.Equal(1, await harness.Proxy.MetricAsync("harmony_proxy_loop_guard_total{kind=\"reasoning_repeat\"}"));
    }

    [Fact]
    public async Task TheSameToolCallThreeTimesInARow_IsCountedAndLogged_TheHistoryUnchanged()
    {
        await using var harness = await LoopbackHarness.StartAsync(settings: new() { ["Serilog:MinimumLevel:Default"] = "Information" });
        var call = (string id, string arguments) => $$$"""
            {"role":"assistant","content":null,"tool_calls":[{"id":"{{{id}}}","type":"function","function":{"name":"exec_command","arguments":"{{{arguments}}}"}}]},
            {"role":"tool","tool_call_id":"{{{id}}}","content":"same output"}
            """;
        var history = $$"""
            [{"role":"user","content":"go"},
             {{call("a", "{\\\"cmd\\\":\\\"ls\\\",\\\"workdir\\\":\\\"/\\\"}")}},
             {{call("b", "{\\\"workdir\\\":\\\"/\\\",\\\"cmd\\\":\\\"ls\\\"}")}},
             {{call("c", "{ \\\"cmd\\\": \\\"ls\\\", \\\"workdir\\\": \\\"/\\\" }")}}]
            """;

        using var response = await harness.Http.PostAsync("/v1/chat/completions", ChatRequest.Body(stream: false, history, $$""","tools":{{ToolLoopClient.Tools}}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, await harness.Proxy.MetricAsync("harmony_proxy_loop_guard_total{kind=\"repeated_tool_call\"}"));
        var logged = await harness.Proxy.LogEvents.WhenLogged("RepeatedToolCall").WaitAsync(Bound);
        Assert.Contains("3 times", logged.RenderMessage(), StringComparison.Ordinal);
        Assert.Equal(7, harness.Simulator.Requests.Single()["messages"]!.AsArray().Count);
    }

    [Theory]
    [InlineData("reasoning", true, false)]
    [InlineData("both", true, true)]
    [InlineData("reasoning_content", false, true)]
    public async Task ReasoningOption_PutsReasoningInTheNamedFields_StreamedAndNot(string option, bool reasoningField, bool reasoningContentField)
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Parsed, new() { ["HarmonyProxy:Output:Reasoning"] = option });

        using var json = await harness.Http.PostAsync("/v1/chat/completions", ChatRequest.Body(stream: false));
        using var sse = await harness.Http.PostAsync("/v1/chat/completions", ChatRequest.Body(stream: true));
        var message = JsonNode.Parse(await json.Content.ReadAsStringAsync())!["choices"]![0]!["message"]!;
        var deltas = (await sse.Content.ReadAsStringAsync()).Split("\n\n").Where(e => e.StartsWith("data: {", StringComparison.Ordinal))
            .Select(e => JsonNode.Parse(e["data: ".Length..])!["choices"]!.AsArray().FirstOrDefault()?["delta"]).OfType<JsonObject>().ToList();

        const string Expected = "The user greets us. We should answer briefly and offer help.";
        Assert.Equal(reasoningField ? Expected : null, message["reasoning"]?.GetValue<string>());
        Assert.Equal(reasoningContentField ? Expected : null, message["reasoning_content"]?.GetValue<string>());
        Assert.Equal(reasoningField ? Expected : string.Empty, string.Concat(deltas.Select(d => d["reasoning"]?.GetValue<string>())));
        Assert.Equal(reasoningContentField ? Expected : string.Empty, string.Concat(deltas.Select(d => d["reasoning_content"]?.GetValue<string>())));
    }

    [Theory]
    [InlineData("RooCode/3.53.0", null, "roo-code", true)]
    [InlineData("Kilo-Code/4.111.0", null, "kilo-code", true)]
    [InlineData("node", "Cline", "cline", true)]
    [InlineData("curl/8.0", null, "other", false)]
    public async Task ClientProfiles_AreDetected_AndTheirOptionsBeatTheDeployments(string userAgent, string? title, string client, bool getsReasoning)
    {
        await using var harness = await LoopbackHarness.StartAsync(settings: new() { ["HarmonyProxy:Output:Reasoning"] = "none" });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = ChatRequest.Body(stream: false) };
        request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
        if (title is not null)
        {
            request.Headers.Add("X-Title", title);
        }

        using var response = await harness.Http.SendAsync(request);
        var message = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["choices"]![0]!["message"]!;

        Assert.Equal(getsReasoning, message["reasoning_content"] is not null);
        Assert.Equal(1, await harness.Proxy.MetricAsync($"harmony_proxy_requests_by_client_total{{client=\"{client}\"}}"));
    }

    [Fact]
    public async Task RequestHeader_BeatsTheClientProfile()
    {
        await using var harness = await LoopbackHarness.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = ChatRequest.Body(stream: false) };
        request.Headers.TryAddWithoutValidation("User-Agent", "RooCode/3.53.0");
        request.Headers.Add("X-Harmony-Reasoning", "think_tags");

        using var response = await harness.Http.SendAsync(request);
        var message = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["choices"]![0]!["message"]!;

        Assert.StartsWith("<think>", message["content"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
