using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using HarmonyProxy.Tests.Infrastructure;
using LlamaServerSim;

namespace HarmonyProxy.Tests.Memory;

/// <summary>
/// A three-step tool loop sent the way each client sends it; the simulator records what
/// llama-server received, which must hold reasoning on exactly the turns Harmony's rule keeps:
/// the tool-call turns since the last final answer, and none once an answer was given.
/// </summary>
public sealed class ReasoningMemoryTests
{
    private static readonly IReadOnlyList<string> Steps = Transcripts.ShellTaskReasoning;

    [Theory]
    [InlineData("none", SimFlavour.Raw)]
    [InlineData("none", SimFlavour.Parsed)]
    [InlineData("reasoning_content", SimFlavour.Raw)]
    [InlineData("reasoning", SimFlavour.Raw)]
    [InlineData("thinking", SimFlavour.Stripped)]
    [InlineData("reasoning_details", SimFlavour.Raw)]
    [InlineData("think_tags", SimFlavour.Parsed)]
    public async Task EveryDialect_ReachesLlamaServerAsReasoningContent_OnTheTurnsTheRuleKeeps(string dialect, SimFlavour flavour)
    {
        await using var harness = await LoopbackHarness.StartAsync(flavour);

        var answer = await ToolLoopClient.RunAsync(harness.Http, ToolLoopClient.Dialect(dialect));

        Assert.Equal("Done: proof.txt holds harmony-proxy.", answer);
        Assert.Equal(4, harness.Simulator.Requests.Count);
        Assert.Empty(ToolLoopClient.ReasoningSent(harness.Simulator, 0));
        Assert.Equal([Steps[0]], ToolLoopClient.ReasoningSent(harness.Simulator, 1));
        Assert.Equal([Steps[0], Steps[1]], ToolLoopClient.ReasoningSent(harness.Simulator, 2));
        Assert.Equal([null, null, null], ToolLoopClient.ReasoningSent(harness.Simulator, 3));
        Assert.All(harness.Simulator.Requests.SelectMany(r => r["messages"]!.AsArray()), message =>
        {
            Assert.Null(message!["reasoning"]);
            Assert.Null(message["thinking"]);
            Assert.Null(message["reasoning_details"]);
            Assert.DoesNotContain("<think>", message["content"]?.ToString() ?? string.Empty, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task ClientServedWithoutReasoning_StillHasItsReasoningCarried()
    {
        await using var harness = await LoopbackHarness.StartAsync();
        var none = new Dictionary<string, string> { ["X-Harmony-Reasoning"] = "none" };

        await ToolLoopClient.RunAsync(harness.Http, ToolLoopClient.Dialect("reasoning_content"), none);

        Assert.Equal([Steps[0], Steps[1]], ToolLoopClient.ReasoningSent(harness.Simulator, 2));
        Assert.Equal(2, await harness.Proxy.MetricAsync("harmony_proxy_reasoning_memory_total{event=\"stored\"}"));
        Assert.Equal(3, await harness.Proxy.MetricAsync("harmony_proxy_reasoning_memory_total{event=\"restored\"}"));
        Assert.Equal(3, await harness.Proxy.MetricAsync("harmony_proxy_reasoning_memory_total{event=\"kept\"}"));
        Assert.Equal(0, await harness.Proxy.MetricAsync("harmony_proxy_reasoning_memory_total{event=\"miss\"}"));
    }

    [Fact]
    public async Task MemoryOff_NothingIsRestored()
    {
        await using var harness = await LoopbackHarness.StartAsync(settings: new() { ["HarmonyProxy:ReasoningMemory:Enabled"] = "false" });

        await ToolLoopClient.RunAsync(harness.Http, dialect: null);

        Assert.Equal([null, null], ToolLoopClient.ReasoningSent(harness.Simulator, 2));
    }

    [Fact]
    public async Task OneClientsReasoning_IsNeverRestoredIntoAnothersRequest()
    {
        await using var harness = await LoopbackHarness.StartAsync(settings: new() { ["HarmonyProxy:Security:ApiKeys:0"] = "sk-alice", ["HarmonyProxy:Security:ApiKeys:1"] = "sk-bob" });
        using var alice = Client(harness, "sk-alice");
        using var bob = Client(harness, "sk-bob");
        var first = await PostAsync(alice, """[{"role":"user","content":"Write proof.txt"}]""");
        var call = first["tool_calls"]![0]!;
        var history = $$"""
            [{"role":"user","content":"Write proof.txt"},
             {"role":"assistant","content":null,"tool_calls":[{{call.ToJsonString()}}]},
             {"role":"tool","tool_call_id":"{{call["id"]}}","content":"harmony-proxy"}]
            """;

        await PostAsync(bob, history);
        var bobSent = ToolLoopClient.ReasoningSent(harness.Simulator, 1);
        await PostAsync(alice, history);
        var aliceSent = ToolLoopClient.ReasoningSent(harness.Simulator, 2);

        Assert.Equal([null], bobSent);
        Assert.Equal([Steps[0]], aliceSent);
    }

    private static HttpClient Client(LoopbackHarness harness, string key)
    {
        var client = new HttpClient { BaseAddress = harness.Proxy.ServerAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    private static async Task<JsonObject> PostAsync(HttpClient http, string messages)
    {
        using var response = await http.PostAsync("/v1/chat/completions", ChatRequest.Body(stream: false, messages, $$""","tools":{{ToolLoopClient.Tools}}"""));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonNode.Parse(text)!["choices"]![0]!["message"]!.AsObject();
    }
}
