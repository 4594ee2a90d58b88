using System.Net;
using System.Text.Json.Nodes;
using HarmonyProxy.Tests.Infrastructure;
using LlamaServerSim;

namespace HarmonyProxy.Tests.Memory;

/// <summary>
/// The keys that seal reasoning live on Redis; Redis is away when the proxy starts. Requests
/// asking for <c>encrypted_content</c> (Codex always does) are served at once, whole, without
/// it; once Redis comes, the keys are read in the background and sealing works again.
/// </summary>
public sealed class SealingKeysRedisTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private const string ResponsesTurn = """
        {"model":"gpt-oss-20b","input":"What does README.md say?","include":["reasoning.encrypted_content"],"store":false,
         "tools":[{"type":"function","name":"read_file","parameters":{"type":"object","properties":{"path":{"type":"string"}}}}]
        """;

    [Fact]
    public async Task RedisAbsentAtStart_ResponsesServedUnsealed_ThenSealedOnceRedisComes()
    {
        var port = RedisServer.FreePort();
        await using var harness = await LoopbackHarness.StartAsync(settings: new()
        {
            ["HarmonyProxy:ReasoningMemory:Redis"] = $"127.0.0.1:{port}",
            ["Serilog:MinimumLevel:Override:HarmonyProxy.Memory.RedisKeyRing"] = "Information",
        });

        // Redis absent: streamed and JSON, several at once, each whole and without encrypted_content.
        var streams = Enumerable.Range(0, 8).Select(_ => PostAsync(harness.Http, ResponsesTurn + ""","stream":true}""")).ToArray();
        var objects = Enumerable.Range(0, 8).Select(_ => PostAsync(harness.Http, ResponsesTurn + "}")).ToArray();
        foreach (var stream in await Task.WhenAll(streams))
        {
            var events = ResponsesStream.Parse(stream);
            Assert.Equal("response.completed", events.Names.Last());
            Assert.Null(events.Final["output"]![0]!["encrypted_content"]);
        }

        foreach (var body in await Task.WhenAll(objects))
        {
            var response = JsonNode.Parse(body)!;
            Assert.Equal("completed", response["status"]!.GetValue<string>());
            Assert.Equal("reasoning", response["output"]![0]!["type"]!.GetValue<string>());
            Assert.Null(response["output"]![0]!["encrypted_content"]);
        }

        Assert.Equal(16, await harness.Proxy.MetricAsync("harmony_proxy_responses_reasoning_unsealed_total"));

        // Redis comes: the keys are read off the request path, and sealing works again.
        await using var redis = await RedisServer.StartAsync(port);
        await harness.Proxy.LogEvents.WhenLogged("SealingKeysLoaded").WaitAsync(Bound);
        var created = JsonNode.Parse(await PostAsync(harness.Http, ResponsesTurn + "}"))!;
        var blob = created["output"]![0]!["encrypted_content"]!.GetValue<string>();
        var call = created["output"]![1]!;
        await PostAsync(harness.Http, $$"""
            {"model":"gpt-oss-20b","store":false,"input":[
              {"role":"user","content":"What does README.md say?"},
              {"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"{{blob}}"},
              {"type":"function_call","call_id":"{{call["call_id"]}}","name":"read_file","arguments":"{}"},
              {"type":"function_call_output","call_id":"{{call["call_id"]}}","output":"ok"}],
             "tools":[{"type":"function","name":"read_file","parameters":{"type":"object"} }]}
            """);
        Assert.Equal("The user wants information from the project. We should call read_file first.",
            harness.Simulator.Requests.Last()["messages"]![1]!["reasoning_content"]!.GetValue<string>());
        Assert.Equal(16, await harness.Proxy.MetricAsync("harmony_proxy_responses_reasoning_unsealed_total"));
    }

    private static async Task<string> PostAsync(HttpClient http, string json)
    {
        using var response = await http.PostAsync("/v1/responses", ResponsesStream.Body(json));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return text;
    }
}
