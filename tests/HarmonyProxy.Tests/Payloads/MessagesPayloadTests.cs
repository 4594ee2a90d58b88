using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using HarmonyProxy.Completions;
using HarmonyProxy.Endpoints;
using HarmonyProxy.Preparation;
using HarmonyProxy.Preparation.Messages;
using HarmonyProxy.Tests.Completions;
using HarmonyProxy.Tests.Infrastructure;
using HarmonyProxy.Wire.Anthropic;

namespace HarmonyProxy.Tests.Payloads;

/// <summary>
/// The Messages API's golden fixtures, both ways: <c>&lt;case&gt;.messages-request.json</c> (what the
/// client sent, shaped as Claude Code sends it) gives <c>&lt;case&gt;.upstream-request.json</c> (what
/// llama-server receives); <c>&lt;case&gt;.upstream.sse</c> gives <c>&lt;case&gt;.messages.sse</c> or
/// <c>.messages.json</c> (what the client gets). A thinking block's signature is
/// <c>sealed:&lt;text&gt;</c> here, in place of Data Protection. <c>UPDATE_PAYLOADS=1</c> rewrites the
/// expected files.
/// </summary>
public sealed class MessagesPayloadTests
{
    private const string Sealed = "sealed:";

    private static readonly string Directory = Path.Combine(Repository.Root, "tests", "HarmonyProxy.Tests", "Payloads", "Messages");

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static TheoryData<string> RequestCases => Cases("*.messages-request.json");

    public static TheoryData<string> OutputCases => Cases("*.upstream.sse");

    [Theory]
    [MemberData(nameof(RequestCases))]
    public async Task Request_BecomesItsGoldenUpstreamRequest(string name)
    {
        var prepared = Prepare(await MapAsync(name));

        var actual = JsonNode.Parse(prepared.UpstreamBody)!.ToJsonString(Indented) + "\n";
        await AssertGoldenAsync(name + ".upstream-request.json", actual);
    }

    [Theory]
    [MemberData(nameof(OutputCases))]
    public async Task UpstreamReply_BecomesItsGoldenMessagesOutput(string name)
    {
        var request = await MapAsync(name);
        var prepared = Prepare(request);
        var context = new MessagesContext("msg_golden", "gpt-oss-20b", () => prepared.UpstreamBody.Length / 4, !request.OmitThinking, static text => Sealed + text);
        await using var harness = new ForwarderHarness();

        // The endpoint's path: a freshly mapped chat request (Prepare above rewrote this one for
        // llama-server) through the forwarder into the Messages wire.
        var (client, _) = await harness.ForwardAsync(
            await File.ReadAllBytesAsync(Path.Combine(Directory, name + ".upstream.sse")), request.Stream, includeUsage: false,
            OutputOptions.Default with { Tools = prepared.Tools, Reasoning = ReasoningMode.ReasoningContent }, new MessagesWire(context), chatRequest: (await MapAsync(name)).ChatRequest);
        var actual = GoldenPayloadTests.Normalise(client, request.Stream);
        AnthropicSdkReads(actual, request.Stream);
        await AssertGoldenAsync(name + (request.Stream ? ".messages.sse" : ".messages.json"), actual);
    }

    [Fact]
    public void TheCasesCoverClaudeCodeAndTheEdges()
    {
        var names = System.IO.Directory.EnumerateFiles(Directory, "*.messages-request.json").Select(file => Path.GetFileName(file).Split('.')[0]).ToList();
        Assert.Contains("claude-code-first-turn", names);
        Assert.Contains("claude-code-replay", names);
        Assert.Contains("claude-code-replay-forged", names);
        Assert.Contains("error-after-output", names);
    }

    /// <summary>The Anthropic SDK's own models read and validate what a client would get (its events, or its message; an error event the SDK raises as an exception, a ping it skips).</summary>
    private static void AnthropicSdkReads(string output, bool stream)
    {
        if (!stream)
        {
            JsonSerializer.Deserialize<Anthropic.Models.Messages.Message>(output)!.Validate();
            return;
        }

        foreach (var data in output.Split('\n').Where(line => line.StartsWith("data: ", StringComparison.Ordinal) && !line.StartsWith("data: {\"type\":\"error\"", StringComparison.Ordinal) && !line.StartsWith("data: {\"type\":\"ping\"", StringComparison.Ordinal)))
        {
            JsonSerializer.Deserialize<Anthropic.Models.Messages.RawMessageStreamEvent>(data["data: ".Length..])!.Validate();
        }
    }

    private static PreparedRequest Prepare(MessagesRequest request)
    {
        var prepared = RequestPreparer.Prepare(request.ChatRequest, CompletionPreparer.PreparationOptions(new RequestOptions(), severalBackends: false), out var problem);
        Assert.Null(problem);
        return prepared;
    }

    private static async Task<MessagesRequest> MapAsync(string name)
    {
        var json = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(Directory, name + ".messages-request.json")))!.AsObject();
        var request = MessagesRequestMapper.Map(json, Unseal, sessionId: null, out var problem);
        Assert.Null(problem);
        return request!;
    }

    private static string? Unseal(string blob) => blob.StartsWith(Sealed, StringComparison.Ordinal) ? blob[Sealed.Length..] : null;

    private static Task AssertGoldenAsync(string file, string actual) => GoldenFiles.AssertAsync(Directory, file, actual);

    private static TheoryData<string> Cases(string pattern) => GoldenFiles.Cases(Directory, pattern);
}
