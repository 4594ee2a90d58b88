using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using HarmonyProxy.Endpoints;
using HarmonyProxy.Tests.Infrastructure;
using LlamaServerSim;
using Microsoft.Extensions.DependencyInjection;

namespace HarmonyProxy.Tests.Endpoints;

/// <summary><c>/v1/responses</c> over loopback with the simulator: the store, sealed reasoning, tools, errors and keep-alives.</summary>
public sealed class ResponsesEndpointTests
{
    private const string ReadFile = """{"type":"function","name":"read_file","description":"Read a file","parameters":{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}}""";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private const string ToolReasoning = "The user wants information from the project. We should call read_file first.";

    [Fact]
    public async Task StoredResponse_ContinuedByPreviousResponseId_CarriesTheConversationAndItsReasoning()
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Parsed);

        var first = await PostAsync(harness.Http, $$"""{"model":"gpt-oss-20b","input":"What does README.md say?","tools":[{{ReadFile}}]}""");
        var call = first["output"]!.AsArray().Last()!;
        Assert.Equal("function_call", call["type"]!.GetValue<string>());
        var second = await PostAsync(harness.Http, $$"""{"model":"gpt-oss-20b","previous_response_id":"{{first["id"]}}","tools":[{{ReadFile}}],"input":[{"type":"function_call_output","call_id":"{{call["call_id"]}}","output":"HarmonyProxy cleans gpt-oss output."}]}""");

        Assert.Equal("The tool said: HarmonyProxy cleans gpt-oss output.", second["output"]!.AsArray().Last()!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(first["id"]!.GetValue<string>(), second["previous_response_id"]!.GetValue<string>());
        var messages = harness.Simulator.Requests.Last()["messages"]!.AsArray();
        Assert.Equal(["user", "assistant", "tool"], messages.Select(m => m!["role"]!.GetValue<string>()));
        Assert.Equal(ToolReasoning, messages[1]!["reasoning_content"]!.GetValue<string>());

        using var stored = await harness.Http.GetAsync($"/v1/responses/{second["id"]}");
        Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        Assert.Equal(second.ToJsonString(), JsonNode.Parse(await stored.Content.ReadAsStringAsync())!.ToJsonString());
        using var deleted = await harness.Http.DeleteAsync($"/v1/responses/{second["id"]}");
        Assert.True(JsonNode.Parse(await deleted.Content.ReadAsStringAsync())!["deleted"]!.GetValue<bool>());
        using var gone = await harness.Http.GetAsync($"/v1/responses/{second["id"]}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task UnknownPreviousResponseId_IsPreviousResponseNotFound_NeverAFreshStart()
    {
        await using var harness = await LoopbackHarness.StartAsync();

        using var response = await harness.Http.PostAsync("/v1/responses", ResponsesStream.Body("""{"model":"gpt-oss-20b","previous_response_id":"resp_nope","input":"Go on."}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("previous_response_not_found", error["code"]!.GetValue<string>());
        Assert.Equal("previous_response_id", error["param"]!.GetValue<string>());
        Assert.Empty(harness.Simulator.Requests);
    }

    [Fact]
    public async Task StoredResponses_BelongToTheClientThatMadeThem()
    {
        await using var harness = await LoopbackHarness.StartAsync(settings: new() { ["HarmonyProxy:Security:ApiKeys:0"] = "sk-alice", ["HarmonyProxy:Security:ApiKeys:1"] = "sk-bob" });
        using var alice = Client(harness, "sk-alice");
        using var bob = Client(harness, "sk-bob");

        var created = await PostAsync(alice, """{"model":"gpt-oss-20b","input":"hi"}""");
        var id = created["id"]!.GetValue<string>();

        using var bobReads = await bob.GetAsync($"/v1/responses/{id}");
        using var bobContinues = await bob.PostAsync("/v1/responses", ResponsesStream.Body($$"""{"model":"gpt-oss-20b","previous_response_id":"{{id}}","input":"more"}"""));
        using var bobDeletes = await bob.DeleteAsync($"/v1/responses/{id}");
        using var aliceReads = await alice.GetAsync($"/v1/responses/{id}");

        Assert.Equal(HttpStatusCode.NotFound, bobReads.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, bobContinues.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, bobDeletes.StatusCode);
        Assert.Equal(HttpStatusCode.OK, aliceReads.StatusCode);
    }

    [Fact]
    public async Task OneClientsLargeInputs_NeverEvictAnothersStoredResponse()
    {
        await using var harness = await LoopbackHarness.StartAsync(settings: new()
        {
            ["HarmonyProxy:Security:ApiKeys:0"] = "sk-alice",
            ["HarmonyProxy:Security:ApiKeys:1"] = "sk-bob",
            ["HarmonyProxy:ReasoningMemory:MaxBytes"] = "2000000",
            ["HarmonyProxy:ReasoningMemory:MaxBytesPerClient"] = "1000000",
        });
        harness.Simulator.Options = harness.Simulator.Options with { ContextSize = 1_000_000 };
        using var alice = Client(harness, "sk-alice");
        using var bob = Client(harness, "sk-bob");
        var bobs = (await PostAsync(bob, """{"model":"gpt-oss-20b","input":"hi"}"""))["id"]!.GetValue<string>();

        // Five inputs of 600 KB each: 3 MB in all, past the store's bound (which, least recently
        // used first, took Bob's response) and past Alice's share (which now takes her own).
        var large = new string('x', 600_000);
        var alices = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            alices.Add((await PostAsync(alice, $$"""{"model":"gpt-oss-20b","input":"{{large}}"}"""))["id"]!.GetValue<string>());
        }

        using var bobContinues = await bob.PostAsync("/v1/responses", ResponsesStream.Body($$"""{"model":"gpt-oss-20b","previous_response_id":"{{bobs}}","input":"more"}"""));
        using var aliceLatest = await alice.GetAsync($"/v1/responses/{alices[^1]}");
        using var aliceFirst = await alice.GetAsync($"/v1/responses/{alices[0]}");

        Assert.Equal(HttpStatusCode.OK, bobContinues.StatusCode);
        Assert.Equal(HttpStatusCode.OK, aliceLatest.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, aliceFirst.StatusCode);
        Assert.True(await harness.Proxy.MetricAsync("harmony_proxy_store_evictions_total{reason=\"client_quota\"}") >= 3);
        Assert.Equal(0, await harness.Proxy.MetricAsync("harmony_proxy_store_evictions_total{reason=\"global_bound\"}"));
    }

    [Fact]
    public async Task StoreFalse_IsNotKept()
    {
        await using var harness = await LoopbackHarness.StartAsync();

        var created = await PostAsync(harness.Http, """{"model":"gpt-oss-20b","input":"hi","store":false}""");
        using var read = await harness.Http.GetAsync($"/v1/responses/{created["id"]}");

        Assert.False(created["store"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
    }

    [Theory]
    [InlineData(SimFlavour.Raw)]
    [InlineData(SimFlavour.Parsed)]
    public async Task EncryptedContent_AloneCarriesTheReasoningToTheNextTurn(SimFlavour flavour)
    {
        await using var harness = await LoopbackHarness.StartAsync(flavour);

        var first = await PostAsync(harness.Http, $$"""{"model":"gpt-oss-20b","store":false,"include":["reasoning.encrypted_content"],"input":"What does README.md say?","tools":[{{ReadFile}}]}""");
        var blob = first["output"]![0]!["encrypted_content"]!.GetValue<string>();
        var call = first["output"]![1]!;
        Assert.DoesNotContain("read_file first", blob, StringComparison.Ordinal);

        await PostAsync(harness.Http, $$"""
            {"model":"gpt-oss-20b","store":false,"tools":[{{ReadFile}}],"input":[
              {"role":"user","content":"What does README.md say?"},
              {"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"{{blob}}"},
              {"type":"function_call","call_id":"{{call["call_id"]}}","name":"read_file","arguments":{{call["arguments"]!.ToJsonString()}}},
              {"type":"function_call_output","call_id":"{{call["call_id"]}}","output":"ok"}]}
            """);

        Assert.Equal(ToolReasoning, harness.Simulator.Requests.Last()["messages"]![1]!["reasoning_content"]!.GetValue<string>());
    }

    [Fact]
    public async Task TamperedBlob_IsIgnoredWithAWarning_AndItsPlainTextUsed()
    {
        await using var harness = await LoopbackHarness.StartAsync();
        var first = await PostAsync(harness.Http, $$"""{"model":"gpt-oss-20b","include":["reasoning.encrypted_content"],"input":"What does README.md say?","tools":[{{ReadFile}}]}""");
        var blob = first["output"]![0]!["encrypted_content"]!.GetValue<string>();
        var tampered = blob[..^4] + (blob[^4] == 'A' ? 'B' : 'A') + blob[^3..];

        using var response = await harness.Http.PostAsync("/v1/responses", ResponsesStream.Body($$"""
            {"model":"gpt-oss-20b","tools":[{{ReadFile}}],"input":[
              {"role":"user","content":"What does README.md say?"},
              {"type":"reasoning","id":"rs_1","summary":[],"content":[{"type":"reasoning_text","text":"The text the client kept."}],"encrypted_content":"{{tampered}}"},
              {"type":"function_call","call_id":"call_1","name":"read_file","arguments":"{}"},
              {"type":"function_call_output","call_id":"call_1","output":"ok"}]}
            """));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("The text the client kept.", harness.Simulator.Requests.Last()["messages"]![1]!["reasoning_content"]!.GetValue<string>());
        Assert.Equal(1, await harness.Proxy.MetricAsync("harmony_proxy_responses_reasoning_unreadable_total"));
        await harness.Proxy.LogEvents.WhenLogged("ResponsesReasoningUnreadable").WaitAsync(Bound);
    }

    [Fact]
    public async Task ToolsOnlyOpenAiRuns_AreLeftOut_CountedAndLoggedOnce()
    {
        await using var harness = await LoopbackHarness.StartAsync(settings: new() { ["Serilog:MinimumLevel:Default"] = "Information" });

        await PostAsync(harness.Http, $$"""{"model":"gpt-oss-20b","input":"hi","tools":[{"type":"web_search"},{"type":"file_search","vector_store_ids":["vs_1"]},{{ReadFile}},{"type":"made_up_tool"}]}""");

        var tools = harness.Simulator.Requests.Single()["tools"]!.AsArray();
        Assert.Equal("read_file", Assert.Single(tools)!["function"]!["name"]!.GetValue<string>());
        Assert.Equal(1, await harness.Proxy.MetricAsync("harmony_proxy_responses_left_out_total{kind=\"tool\",type=\"web_search\"}"));
        Assert.Equal(1, await harness.Proxy.MetricAsync("harmony_proxy_responses_left_out_total{kind=\"tool\",type=\"other\"}"));
        var logged = await harness.Proxy.LogEvents.WhenLogged("ResponsesPartsLeftOut").WaitAsync(Bound);
        Assert.Contains("web_search, file_search, made_up_tool", logged.RenderMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Streaming_EventsComeInOpenAisOrder_WithConsecutiveSequenceNumbers()
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Stripped);

        using var response = await harness.Http.PostAsync("/v1/responses", ResponsesStream.Body($$"""{"model":"gpt-oss-20b","stream":true,"input":"What does README.md say?","tools":[{{ReadFile}}]}"""));
        var stream = ResponsesStream.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(
            ["response.created", "response.in_progress",
             "response.output_item.added", "response.content_part.added", "response.reasoning_text.delta", "response.reasoning_text.done", "response.content_part.done", "response.output_item.done",
             "response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.done", "response.output_item.done",
             "response.completed"],
            Collapse(stream.Names));
        Assert.Equal(Enumerable.Range(0, stream.Events.Count), stream.Events.Select(e => e.Data["sequence_number"]!.GetValue<int>()));
        Assert.All(stream.Events, e => Assert.Equal(e.Name, e.Data["type"]!.GetValue<string>()));
        var final = stream.Final;
        Assert.Equal("completed", final["status"]!.GetValue<string>());
        Assert.Equal("""{"path":"README.md"}""", final["output"]![1]!["arguments"]!.GetValue<string>());
        Assert.True(final["usage"]!["output_tokens"]!.GetValue<int>() > 0);
    }

    [Fact]
    public async Task ErrorBeforeOutput_IsAnHttpErrorInOpenAisShape()
    {
        await using var harness = await LoopbackHarness.StartAsync();
        harness.Simulator.Enqueue(new SimScript { FailStatus = 400, FailMessage = "the request exceeds the available context size, try increasing it" });

        using var response = await harness.Http.PostAsync("/v1/responses", ResponsesStream.Body("""{"model":"gpt-oss-20b","stream":true,"input":"hi"}"""));

        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("context_length_exceeded", error["code"]!.GetValue<string>());
        Assert.Equal("input", error["param"]!.GetValue<string>());
    }

    [Fact]
    public async Task ErrorAfterOutput_IsResponseFailed()
    {
        await using var harness = await LoopbackHarness.StartAsync();
        harness.Simulator.Enqueue(new SimScript { ErrorAfterTokens = 25, ErrorMessage = "slot 0: out of memory" });

        using var response = await harness.Http.PostAsync("/v1/responses", ResponsesStream.Body("""{"model":"gpt-oss-20b","stream":true,"input":"hi"}"""));
        var stream = ResponsesStream.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal("response.failed", stream.Names.Last());
        Assert.DoesNotContain("response.completed", stream.Names);
        Assert.Equal("server_error", stream.Final["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task DrainEndsAnOpenStream_IsResponseFailed_NotIncomplete()
    {
        await using var harness = await LoopbackHarness.StartAsync();
        var streaming = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Simulator.Enqueue(new SimScript
        {
            RawText = "<|channel|>final<|message|>One two three four",
            Gate = async (token, cancellation) =>
            {
                if (token == 5)
                {
                    streaming.TrySetResult();
                    await Task.Delay(Timeout.Infinite, cancellation);
                }
            },
        });

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses") { Content = ResponsesStream.Body("""{"model":"gpt-oss-20b","stream":true,"input":"hi"}""") };
        using var response = await harness.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var seen = new System.Text.StringBuilder();
        while (await reader.ReadLineAsync() is { } line)
        {
            seen.Append(line).Append('\n');
            if (line.Contains("response.output_text.delta", StringComparison.Ordinal) && line.StartsWith("data:", StringComparison.Ordinal))
            {
                break;
            }
        }

        await streaming.Task.WaitAsync(TimeSpan.FromSeconds(30));
        harness.Proxy.Services.GetRequiredService<DrainState>().EndOpenStreams();
        var stream = ResponsesStream.Parse(seen + await reader.ReadToEndAsync());

        Assert.Equal("response.failed", stream.Names.Last());
        Assert.DoesNotContain("response.incomplete", stream.Names);
        Assert.Equal("server_error", stream.Final["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task SilentModel_KeepAliveCommentsGoOut_ThenTheStream()
    {
        await using var harness = await LoopbackHarness.StartAsync(settings: new() { ["HarmonyProxy:Upstream:KeepAliveSeconds"] = "0.05" });
        var keepAliveSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Simulator.Enqueue(new SimScript { Gate = (index, cancellation) => index == 0 ? keepAliveSeen.Task.WaitAsync(cancellation) : Task.CompletedTask });

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses") { Content = ResponsesStream.Body("""{"model":"gpt-oss-20b","stream":true,"input":"hi"}""") };
        using var response = await harness.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        var first = new byte[": keep-alive\n\n".Length];
        await body.ReadExactlyAsync(first);
        keepAliveSeen.SetResult();
        var rest = await new StreamReader(body).ReadToEndAsync();

        Assert.Equal(": keep-alive\n\n", System.Text.Encoding.UTF8.GetString(first));
        Assert.Equal("completed", ResponsesStream.Parse(rest).Final["status"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"model":"gpt-oss-20b"}""", "input", "missing_required_parameter")]
    [InlineData("""{"model":"gpt-oss-20b","input":42}""", "input", "invalid_type")]
    [InlineData("""{"model":"gpt-oss-20b","input":[{"type":"message","role":"robot","content":"x"}]}""", "input[0]", "invalid_value")]
    [InlineData("""{"model":"gpt-oss-20b","input":"hi","tools":[{"name":"x"}]}""", "tools", "invalid_value")]
    [InlineData("""{"model":"gpt-oss-20b","input":"hi","max_output_tokens":0}""", "max_output_tokens", "invalid_type")]
    [InlineData("""{"model":"gpt-oss-20b","input":"hi","reasoning":{"effort":"extreme"}}""", "reasoning.effort", "invalid_value")]
    public async Task BadRequests_Get400WithTheParameter(string body, string param, string code)
    {
        await using var harness = await LoopbackHarness.StartAsync();

        using var response = await harness.Http.PostAsync("/v1/responses", ResponsesStream.Body(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal(param, error["param"]!.GetValue<string>());
        Assert.Equal(code, error["code"]!.GetValue<string>());
        Assert.Empty(harness.Simulator.Requests);
    }

    /// <summary>Runs of the same event (deltas) as one name.</summary>
    private static List<string> Collapse(IEnumerable<string> names)
    {
        var collapsed = new List<string>();
        foreach (var name in names)
        {
            if (collapsed.Count == 0 || collapsed[^1] != name)
            {
                collapsed.Add(name);
            }
        }

        return collapsed;
    }

    private static HttpClient Client(LoopbackHarness harness, string key)
    {
        var client = new HttpClient { BaseAddress = harness.Proxy.ServerAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    private static async Task<JsonObject> PostAsync(HttpClient http, string body)
    {
        using var response = await http.PostAsync("/v1/responses", ResponsesStream.Body(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!.AsObject();
    }
}
