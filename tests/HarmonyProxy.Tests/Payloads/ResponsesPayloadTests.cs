using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using HarmonyProxy.Completions;
using HarmonyProxy.Endpoints;
using HarmonyProxy.Preparation;
using HarmonyProxy.Preparation.Responses;
using HarmonyProxy.Tests.Completions;
using HarmonyProxy.Tests.Infrastructure;
using HarmonyProxy.Wire.Responses;

namespace HarmonyProxy.Tests.Payloads;

/// <summary>
/// The Responses API's golden fixtures, both ways: <c>&lt;case&gt;.responses-request.json</c> (what
/// the client sent) gives <c>&lt;case&gt;.upstream-request.json</c> (what llama-server receives);
/// <c>&lt;case&gt;.upstream.sse</c> (llama-server's reply) gives <c>&lt;case&gt;.responses.sse</c> or
/// <c>.responses.json</c> (what the client gets). Sealed reasoning is <c>sealed:&lt;text&gt;</c> here,
/// in place of Data Protection. <c>UPDATE_PAYLOADS=1</c> rewrites the expected files.
/// </summary>
public sealed class ResponsesPayloadTests
{
    private const string Sealed = "sealed:";

    private static readonly string Directory = Path.Combine(Repository.Root, "tests", "HarmonyProxy.Tests", "Payloads", "Responses");

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static TheoryData<string> RequestCases => Cases("*.responses-request.json");

    public static TheoryData<string> OutputCases => Cases("*.upstream.sse");

    [Theory]
    [MemberData(nameof(RequestCases))]
    public async Task Request_BecomesItsGoldenUpstreamRequest(string name)
    {
        var request = await MapAsync(name);
        var prepared = RequestPreparer.Prepare(request.ChatRequest, CompletionPreparer.PreparationOptions(new RequestOptions(), severalBackends: false), out var problem);
        Assert.Null(problem);

        var actual = JsonNode.Parse(prepared.UpstreamBody)!.ToJsonString(Indented) + "\n";
        await AssertGoldenAsync(name + ".upstream-request.json", actual);
    }

    [Theory]
    [MemberData(nameof(OutputCases))]
    public async Task UpstreamReply_BecomesItsGoldenResponsesOutput(string name)
    {
        var request = await MapAsync(name);
        var context = new ResponseContext("resp_golden", 1761672368, "gpt-oss-20b", request.Echo, request.Tools,
            request.IncludeEncryptedReasoning ? static text => Sealed + text : null);
        await using var harness = new ForwarderHarness();

        // The endpoint's path: the mapped chat request through the forwarder into the Responses wire.
        var (client, _) = await harness.ForwardAsync(
            await File.ReadAllBytesAsync(Path.Combine(Directory, name + ".upstream.sse")), request.Stream, includeUsage: false,
            OutputOptions.Default with { Tools = RequestedTools.From(request.ChatRequest) }, new ResponsesWire(context), chatRequest: request.ChatRequest);
        var actual = GoldenPayloadTests.Normalise(client, request.Stream);
        await AssertGoldenAsync(name + (request.Stream ? ".responses.sse" : ".responses.json"), actual);
    }

    [Fact]
    public void TheCasesCoverCodexAndTheEdges()
    {
        var names = System.IO.Directory.EnumerateFiles(Directory, "*.responses-request.json").Select(file => Path.GetFileName(file).Split('.')[0]).ToList();
        Assert.True(names.Count >= 10, $"{names.Count} cases");
        Assert.Contains("codex-replay", names);
        Assert.Contains("codex-replay-tampered", names);
        Assert.Contains("custom-tool-call", names);
        Assert.Contains("final-answer-drops-earlier-reasoning", names);
        Assert.Contains("error-after-output", names);
    }

    private static async Task<ResponsesRequest> MapAsync(string name)
    {
        var json = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(Directory, name + ".responses-request.json")))!.AsObject();
        var request = ResponsesRequestMapper.Map(json, previousConversation: null, Unseal, out var problem);
        Assert.Null(problem);
        return request!;
    }

    private static string? Unseal(string blob) => blob.StartsWith(Sealed, StringComparison.Ordinal) ? blob[Sealed.Length..] : null;

    private static Task AssertGoldenAsync(string file, string actual) => GoldenFiles.AssertAsync(Directory, file, actual);

    private static TheoryData<string> Cases(string pattern) => GoldenFiles.Cases(Directory, pattern);
}
