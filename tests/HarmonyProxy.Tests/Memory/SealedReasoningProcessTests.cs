using System.Net;
using System.Text.Json.Nodes;
using HarmonyProxy.Tests.Infrastructure;
using LlamaServerSim;

namespace HarmonyProxy.Tests.Memory;

/// <summary>
/// Sealed reasoning across real proxy processes: replicas that share a Data Protection key
/// directory read each other's <c>encrypted_content</c>; one with other keys cannot, and says so.
/// </summary>
public sealed class SealedReasoningProcessTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private const string Tools = """[{"type":"function","name":"read_file","parameters":{"type":"object","properties":{"path":{"type":"string"}}}}]""";

    private readonly string _sharedKeys = Directory.CreateTempSubdirectory("harmony-keys-").FullName;
    private readonly string _otherKeys = Directory.CreateTempSubdirectory("harmony-keys-").FullName;

    [Fact]
    public async Task BlobSealedByOneReplica_OpensInAnotherWithTheSameKeys_NotInOneWithOtherKeys()
    {
        await using var simulator = await LlamaServerSimulator.StartAsync();
        await using var first = await ProxyProcess.StartAsync(simulator.BaseAddress, Keys(_sharedKeys), Bound);
        await using var second = await ProxyProcess.StartAsync(simulator.BaseAddress, Keys(_sharedKeys), Bound);
        await using var stranger = await ProxyProcess.StartAsync(simulator.BaseAddress, Keys(_otherKeys), Bound);

        var turn = await PostAsync(first, $$"""{"model":"gpt-oss-20b","store":false,"include":["reasoning.encrypted_content"],"input":"What does README.md say?","tools":{{Tools}}}""");
        var blob = turn["output"]![0]!["encrypted_content"]!.GetValue<string>();
        var call = turn["output"]![1]!;
        var replay = $$"""
            {"model":"gpt-oss-20b","store":false,"tools":{{Tools}},"input":[
              {"role":"user","content":"What does README.md say?"},
              {"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"{{blob}}"},
              {"type":"function_call","call_id":"{{call["call_id"]}}","name":"read_file","arguments":"{}"},
              {"type":"function_call_output","call_id":"{{call["call_id"]}}","output":"ok"}]}
            """;

        await PostAsync(second, replay);
        var restored = simulator.Requests.Last()["messages"]![1]!["reasoning_content"];
        var unreadable = stranger.WhenLogged("ResponsesReasoningUnreadable");
        await PostAsync(stranger, replay);
        var notRestored = simulator.Requests.Last()["messages"]![1]!["reasoning_content"];
        await unreadable.WaitAsync(Bound);

        Assert.Equal("The user wants information from the project. We should call read_file first.", restored?.GetValue<string>());
        Assert.Null(notRestored);
        Assert.NotEmpty(Directory.EnumerateFiles(_sharedKeys, "key-*.xml"));
    }

    public void Dispose()
    {
        Directory.Delete(_sharedKeys, recursive: true);
        Directory.Delete(_otherKeys, recursive: true);
    }

    private static Dictionary<string, string> Keys(string directory) => new() { ["DATA_PROTECTION_KEYS_DIR"] = directory };

    private static async Task<JsonObject> PostAsync(ProxyProcess proxy, string body)
    {
        using var http = new HttpClient { BaseAddress = proxy.BaseAddress };
        using var response = await http.PostAsync("/v1/responses", ResponsesStream.Body(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!.AsObject();
    }
}
