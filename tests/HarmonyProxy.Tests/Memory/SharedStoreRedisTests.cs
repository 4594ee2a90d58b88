using System.Net;
using System.Text.Json.Nodes;
using HarmonyProxy.Tests.Infrastructure;
using LlamaServerSim;

namespace HarmonyProxy.Tests.Memory;

/// <summary>
/// The shared store on a real redis-server: two proxy processes, one Redis. Turn 1 through the
/// first, turn 2 through the second: the reasoning is restored, the stored response found, the
/// sealed reasoning opened (Data Protection keys on Redis too). And a Redis that is down costs
/// nothing but a metric and one warning.
/// </summary>
public sealed class SharedStoreRedisTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task TwoProxies_OneRedis_TheSecondContinuesWhatTheFirstStarted()
    {
        await using var simulator = await LlamaServerSimulator.StartAsync();
        var settings = new Dictionary<string, string> { ["REASONING_MEMORY_REDIS"] = redis.ConnectionString };
        await using var first = await ProxyProcess.StartAsync(simulator.BaseAddress, settings, Bound);
        await using var second = await ProxyProcess.StartAsync(simulator.BaseAddress, settings, Bound);
        using var one = new HttpClient { BaseAddress = first.BaseAddress };
        using var two = new HttpClient { BaseAddress = second.BaseAddress };

        // Chat completions: the reasoning memory.
        var reasoningWritten = await redis.WhenKeyWrittenAsync("reasoning:");
        var call = (await PostJsonAsync(one, "/v1/chat/completions", ChatTurn("""[{"role":"user","content":"Write proof.txt"}]""")))["choices"]![0]!["message"]!["tool_calls"]![0]!;
        await reasoningWritten;
        await PostJsonAsync(two, "/v1/chat/completions", ChatTurn($$"""
            [{"role":"user","content":"Write proof.txt"},
             {"role":"assistant","content":null,"tool_calls":[{{call.ToJsonString()}}]},
             {"role":"tool","tool_call_id":"{{call["id"]}}","content":"harmony-proxy"}]
            """));
        Assert.Equal([Transcripts.ShellTaskReasoning[0]], ToolLoopClient.ReasoningSent(simulator, 1));

        // The Responses API: a stored response, and sealed reasoning.
        var responseWritten = await redis.WhenKeyWrittenAsync("response:");
        var created = await PostJsonAsync(one, "/v1/responses", """{"model":"gpt-oss-20b","input":"What does README.md say?","include":["reasoning.encrypted_content"],"tools":[{"type":"function","name":"read_file","parameters":{"type":"object","properties":{"path":{"type":"string"}}}}]}""");
        await responseWritten;
        using var read = await two.GetAsync($"/v1/responses/{created["id"]}");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        var blob = created["output"]![0]!["encrypted_content"]!.GetValue<string>();
        var fnCall = created["output"]![1]!;
        await PostJsonAsync(two, "/v1/responses", $$"""
            {"model":"gpt-oss-20b","store":false,"input":[
              {"role":"user","content":"What does README.md say?"},
              {"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"{{blob}}"},
              {"type":"function_call","call_id":"{{fnCall["call_id"]}}","name":"read_file","arguments":"{}"},
              {"type":"function_call_output","call_id":"{{fnCall["call_id"]}}","output":"ok"}],
             "tools":[{"type":"function","name":"read_file","parameters":{"type":"object"} }]}
            """);
        Assert.Equal("The user wants information from the project. We should call read_file first.", simulator.Requests.Last()["messages"]![1]!["reasoning_content"]!.GetValue<string>());
    }

    [Fact]
    public async Task RedisDown_RequestsAreServed_TheFailureIsCountedAndWarnedOnce()
    {
        await using var harness = await LoopbackHarness.StartAsync(settings: new() { ["HarmonyProxy:ReasoningMemory:Redis"] = $"127.0.0.1:{RedisServer.FreePort()},connectTimeout=100" });
        var history = """
            [{"role":"user","content":"Write proof.txt"},
             {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"exec_command","arguments":"{}"}}]},
             {"role":"tool","tool_call_id":"call_1","content":"harmony-proxy"}]
            """;

        for (var i = 0; i < 3; i++)
        {
            using var response = await harness.Http.PostAsync("/v1/chat/completions", ChatTurn(history));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await harness.Proxy.LogEvents.WhenLogged("StoreFailed").WaitAsync(Bound);
        Assert.Single(harness.Proxy.LogEvents.Named("StoreFailed"));
        var failed = await harness.Proxy.MetricAsync("harmony_proxy_store_errors_total{store=\"redis\",operation=\"get\",kind=\"error\"}")
            + await harness.Proxy.MetricAsync("harmony_proxy_store_errors_total{store=\"redis\",operation=\"get\",kind=\"timeout\"}");
        Assert.Equal(1, failed);
        Assert.True(await harness.Proxy.MetricAsync("harmony_proxy_store_errors_total{store=\"redis\",operation=\"get\",kind=\"paused\"}") >= 1);
        Assert.Equal(3, harness.Simulator.Requests.Count);
    }

    private static StringContent ChatTurn(string messages) => ChatRequest.Body(stream: false, messages, $$""","tools":{{ToolLoopClient.Tools}}""");

    private static async Task<JsonObject> PostJsonAsync(HttpClient http, string path, StringContent body)
    {
        using var response = await http.PostAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonNode.Parse(text)!.AsObject();
    }

    private static Task<JsonObject> PostJsonAsync(HttpClient http, string path, string json) =>
        PostJsonAsync(http, path, ResponsesStream.Body(json));
}
