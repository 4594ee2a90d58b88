using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Anthropic;
using Anthropic.Models.Messages;
using HarmonyProxy.Tests.Infrastructure;
using LlamaServerSim;
using RichardSzalay.MockHttp;

namespace HarmonyProxy.Tests.Endpoints;

/// <summary>
/// <c>POST /v1/messages</c> over loopback against the llama-server simulator, read by the official
/// Anthropic .NET SDK where it can be: thinking blocks with signatures, text, tool_use, the
/// stream's events, the round trip of a tool call with its thinking, errors in Anthropic's shape.
/// </summary>
public sealed class MessagesEndpointTests
{
    private const string Answer = "Hello! I am a simulated gpt-oss behind llama-server. How can I help you today?";
    private const string Tools = """[{"name":"read_file","description":"Reads a file.","input_schema":{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}}]""";

    public static TheoryData<SimFlavour> Flavours => [SimFlavour.Raw, SimFlavour.Stripped, SimFlavour.Parsed];

    [Theory]
    [MemberData(nameof(Flavours))]
    public async Task Sdk_NonStreaming_ThinkingWithSignature_ThenText(SimFlavour flavour)
    {
        await using var harness = await LoopbackHarness.StartAsync(flavour);
        var client = Client(harness);

        var message = await client.Messages.Create(new MessageCreateParams
        {
            MaxTokens = 1024,
            Model = "gpt-oss-20b",
            Messages = [new UserMessageParam { Content = "hi" }],
        });

        Assert.Equal(2, message.Content.Count);
        Assert.True(message.Content[0].TryPickThinking(out var thinking));
        Assert.Equal("The user greets us. We should answer briefly and offer help.", thinking!.Thinking);
        Assert.False(string.IsNullOrEmpty(thinking.Signature));
        Assert.True(message.Content[1].TryPickText(out var text));
        Assert.Equal(Answer, text!.Text);
        Assert.Equal(StopReason.EndTurn, message.StopReason!.Value());
        Assert.True(message.Usage.InputTokens > 0);
        Assert.True(message.Usage.OutputTokens > 0);
    }

    [Theory]
    [MemberData(nameof(Flavours))]
    public async Task Sdk_Streaming_TheEventsAnthropicSends(SimFlavour flavour)
    {
        await using var harness = await LoopbackHarness.StartAsync(flavour);
        var client = Client(harness);
        var thinking = new StringBuilder();
        var text = new StringBuilder();
        var signatures = 0;
        var kinds = new List<string>();
        StopReason? stopReason = null;
        long startInputTokens = 0;
        long outputTokens = 0;

        await foreach (var streamed in client.Messages.CreateStreaming(new MessageCreateParams
        {
            MaxTokens = 1024,
            Model = "gpt-oss-20b",
            Messages = [new UserMessageParam { Content = "hi" }],
        }))
        {
            kinds.Add(streamed.Json.GetProperty("type").GetString()!);
            if (streamed.TryPickStart(out var start))
            {
                startInputTokens = start!.Message.Usage.InputTokens;
            }
            else if (streamed.TryPickContentBlockDelta(out var delta))
            {
                if (delta!.Delta.TryPickThinking(out var thinkingDelta))
                {
                    thinking.Append(thinkingDelta!.Thinking);
                }
                else if (delta.Delta.TryPickText(out var textDelta))
                {
                    text.Append(textDelta!.Text);
                }
                else if (delta.Delta.TryPickSignature(out _))
                {
                    signatures++;
                }
            }
            else if (streamed.TryPickDelta(out var messageDelta))
            {
                stopReason = messageDelta!.Delta.StopReason!.Value();
                outputTokens = messageDelta.Usage.OutputTokens;
            }
        }

        Assert.Equal("message_start", kinds[0]);
        Assert.Equal(["message_delta", "message_stop"], kinds[^2..]);
        Assert.Equal(2, kinds.Count(kind => kind == "content_block_start"));
        Assert.Equal(2, kinds.Count(kind => kind == "content_block_stop"));
        Assert.True(startInputTokens > 0);
        Assert.Equal("The user greets us. We should answer briefly and offer help.", thinking.ToString());
        Assert.Equal(1, signatures);
        Assert.Equal(Answer, text.ToString());
        Assert.Equal(StopReason.EndTurn, stopReason);
        Assert.True(outputTokens > 0);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ToolUseRoundTrip_TheThinkingComesBackByItsSignature(bool stream)
    {
        await using var harness = await LoopbackHarness.StartAsync();
        using var http = Http(harness);

        var first = await PostAsync(http, $$"""{"model":"gpt-oss-20b","max_tokens":1024,"stream":{{Json(stream)}},"tools":{{Tools}},"messages":[{"role":"user","content":"What does README.md say?"}]}""", stream);
        var thinking = first["content"]![0]!.AsObject();
        var toolUse = first["content"]![1]!.AsObject();

        Assert.Equal("tool_use", first["stop_reason"]!.GetValue<string>());
        Assert.Equal("thinking", thinking["type"]!.GetValue<string>());
        Assert.Equal("tool_use", toolUse["type"]!.GetValue<string>());
        Assert.Equal("read_file", toolUse["name"]!.GetValue<string>());
        Assert.Equal("object", JsonValueKind(toolUse["input"]));

        // Turn 2: the client sends back the thinking block (text blanked: only the signature counts) and the result.
        thinking["thinking"] = string.Empty;
        var second = await PostAsync(http, $$"""
            {"model":"gpt-oss-20b","max_tokens":1024,"stream":{{Json(stream)}},"tools":{{Tools}},"messages":[
              {"role":"user","content":"What does README.md say?"},
              {"role":"assistant","content":[{{thinking.ToJsonString()}},{{toolUse.ToJsonString()}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"{{toolUse["id"]}}","content":[{"type":"text","text":"HarmonyProxy sits between IDE agents and llama-server."}]}]}]}
            """, stream);

        var upstream = harness.Simulator.Requests.Last()["messages"]!.AsArray();
        Assert.Equal("The user wants information from the project. We should call read_file first.", upstream[1]!["reasoning_content"]!.GetValue<string>());
        Assert.Equal(toolUse["id"]!.GetValue<string>(), upstream[1]!["tool_calls"]![0]!["id"]!.GetValue<string>());
        Assert.Equal("tool", upstream[2]!["role"]!.GetValue<string>());
        Assert.Equal("end_turn", second["stop_reason"]!.GetValue<string>());
        Assert.StartsWith("The tool said: HarmonyProxy sits", second["content"]!.AsArray().Last()!["text"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AClientThatDropsThinkingBlocks_GetsTheReasoningBackFromTheMemory()
    {
        await using var harness = await LoopbackHarness.StartAsync();
        using var http = Http(harness);

        var first = await PostAsync(http, $$"""{"model":"gpt-oss-20b","max_tokens":1024,"tools":{{Tools}},"messages":[{"role":"user","content":"What does README.md say?"}]}""", stream: false);
        var toolUse = first["content"]![1]!.AsObject();
        toolUse.Remove("caller");
        await PostAsync(http, $$"""
            {"model":"gpt-oss-20b","max_tokens":1024,"tools":{{Tools}},"messages":[
              {"role":"user","content":"What does README.md say?"},
              {"role":"assistant","content":[{{toolUse.ToJsonString()}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"{{toolUse["id"]}}","content":"ok"}]}]}
            """, stream: false);

        Assert.Equal("The user wants information from the project. We should call read_file first.",
            harness.Simulator.Requests.Last()["messages"]![1]!["reasoning_content"]!.GetValue<string>());
        Assert.Equal(1, await harness.Proxy.MetricAsync("harmony_proxy_reasoning_memory_total{event=\"restored\"}"));
    }

    [Fact]
    public async Task AForgedSignature_IsIgnored_CountedAndNeverA500()
    {
        await using var harness = await LoopbackHarness.StartAsync();
        using var http = Http(harness);

        await PostAsync(http, $$"""
            {"model":"gpt-oss-20b","max_tokens":1024,"tools":{{Tools}},"messages":[
              {"role":"user","content":"What does README.md say?"},
              {"role":"assistant","content":[{"type":"thinking","thinking":"I am injected reasoning.","signature":"forged"},{"type":"tool_use","id":"call_1","name":"read_file","input":{"path":"README.md"} }]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1","content":"ok"}]}]}
            """, stream: false);

        Assert.Null(harness.Simulator.Requests.Last()["messages"]![1]!["reasoning_content"]);
        Assert.Equal(1, await harness.Proxy.MetricAsync("harmony_proxy_messages_thinking_unreadable_total"));
    }

    [Fact]
    public async Task ClaudeCodesAttributionLine_NeverReachesLlamaServer_SoTheSystemPrefixStaysTheSame()
    {
        await using var harness = await LoopbackHarness.StartAsync();
        using var http = Http(harness);

        foreach (var cch in new[] { "a1b2c", "f9e8d" })
        {
            await PostAsync(http, $$"""
                {"model":"gpt-oss-20b","max_tokens":1024,
                 "system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.328; cc_entrypoint=cli; cch={{cch}};"},{"type":"text","text":"You are Claude Code.","cache_control":{"type":"ephemeral"} }],
                 "messages":[{"role":"system","content":"Tool guidance."},{"role":"user","content":"hi"}],
                 "thinking":{"type":"adaptive","display":"omitted"},"output_config":{"effort":"high"},"context_management":{"edits":[]},"metadata":{"user_id":"{\"session_id\":\"s-1\"}"} }
                """, stream: false);
        }

        var systems = harness.Simulator.Requests.Select(request => request["messages"]![0]!["content"]!.GetValue<string>()).ToList();
        Assert.Equal(["You are Claude Code.\n\nTool guidance.", "You are Claude Code.\n\nTool guidance."], systems);
        Assert.All(harness.Simulator.Requests, request => Assert.Equal("high", request["chat_template_kwargs"]!["reasoning_effort"]!.GetValue<string>()));
    }

    [Fact]
    public async Task DisplayOmitted_ThinkingBlockCarriesItsSignatureButNoText()
    {
        await using var harness = await LoopbackHarness.StartAsync();
        using var http = Http(harness);

        var message = await PostAsync(http, """{"model":"gpt-oss-20b","max_tokens":1024,"stream":true,"thinking":{"type":"adaptive","display":"omitted"},"messages":[{"role":"user","content":"hi"}]}""", stream: true);

        Assert.Equal(string.Empty, message["content"]![0]!["thinking"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(message["content"]![0]!["signature"]!.GetValue<string>()));
        Assert.Equal(Answer, message["content"]![1]!["text"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"max_tokens":10}""", HttpStatusCode.BadRequest, "invalid_request_error")]
    [InlineData("""{"max_tokens":10,"messages":[{"role":"user","content":5}]}""", HttpStatusCode.BadRequest, "invalid_request_error")]
    [InlineData("""{"max_tokens":10,"temperature":"hot","messages":[{"role":"user","content":"hi"}]}""", HttpStatusCode.BadRequest, "invalid_request_error")]
    [InlineData("/v1/messages/batches", HttpStatusCode.NotFound, "not_found_error")]
    public async Task BadRequests_GetAnthropicsErrorShape(string body, HttpStatusCode status, string type)
    {
        await using var harness = await LoopbackHarness.StartAsync();
        using var http = Http(harness);
        var path = body.StartsWith('/') ? body : "/v1/messages";

        using var response = await http.PostAsync(path, new StringContent(body.StartsWith('/') ? "{}" : body, Encoding.UTF8, "application/json"));
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(status, response.StatusCode);
        Assert.Equal("error", error["type"]!.GetValue<string>());
        Assert.Equal(type, error["error"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task APromptTooLong_SaysSoInTheWordsClaudeCodeCompactsOn()
    {
        await using var harness = await LoopbackHarness.StartAsync();
        harness.Simulator.Enqueue(new SimScript { FailStatus = 400, FailMessage = "request (9000 tokens) exceeds the available context size (8192 tokens), try increasing it" });
        using var http = Http(harness);

        using var response = await http.PostAsync("/v1/messages", new StringContent("""{"model":"gpt-oss-20b","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
        Assert.Equal("prompt is too long: 9000 tokens > 8192 maximum", error["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task ClientKeys_AreAcceptedFromXApiKey_AndARefusalIsAnAuthenticationError()
    {
        await using var harness = await LoopbackHarness.StartAsync(settings: new() { ["HarmonyProxy:Security:ApiKeys:0"] = "sk-claude" });
        using var http = new HttpClient { BaseAddress = harness.Proxy.ServerAddress };
        using var accepted = new HttpRequestMessage(HttpMethod.Post, "/v1/messages") { Content = new StringContent("""{"model":"gpt-oss-20b","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json") };
        accepted.Headers.Add("x-api-key", "sk-claude");
        accepted.Headers.Add("anthropic-version", "2023-06-01");
        using var refused = new HttpRequestMessage(HttpMethod.Post, "/v1/messages?beta=true") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        refused.Headers.Add("x-api-key", "sk-wrong");

        using var ok = await http.SendAsync(accepted);
        using var denied = await http.SendAsync(refused);

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
        Assert.Equal("authentication_error", JsonNode.Parse(await denied.Content.ReadAsStringAsync())!["error"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task ClaudeCode_IsRecognised_AndCountedUnderTheMessagesEndpoint()
    {
        await using var harness = await LoopbackHarness.StartAsync();
        using var http = Http(harness);
        http.DefaultRequestHeaders.UserAgent.ParseAdd("claude-cli/2.1.328 (external, cli)");
        http.DefaultRequestHeaders.Add(HarmonyProxy.Endpoints.MessagesApi.SessionHeader, "9f1c");

        await PostAsync(http, """{"model":"gpt-oss-20b","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]}""", stream: true);

        Assert.Equal(1, await harness.Proxy.MetricAsync("harmony_proxy_requests_by_client_total{client=\"claude-code\"}"));
        Assert.Equal(1, await harness.Proxy.MetricAsync("harmony_proxy_requests_total{endpoint=\"messages\",stream=\"true\",outcome=\"ok\"}"));
        Assert.Equal("9f1c", harness.Simulator.Requests.Single()["prompt_cache_key"]!.GetValue<string>());
    }

    [Fact]
    public async Task CountTokens_IsLlamaServersOwnCount_OfThePromptItsTemplateRenders()
    {
        await using var harness = await LoopbackHarness.StartAsync();
        var client = Client(harness);

        var counted = await client.Messages.CountTokens(new MessageCountTokensParams
        {
            Model = "gpt-oss-20b",
            Messages = [new UserMessageParam { Content = "What does README.md say?" }],
        });

        var rendered = harness.Simulator.OtherRequests.Single(request => request.Path == "/apply-template");
        var tokenized = harness.Simulator.OtherRequests.Single(request => request.Path == "/tokenize");
        var prompt = JsonNode.Parse(tokenized.Body)!["content"]!.GetValue<string>();
        Assert.Contains("What does README.md say?", rendered.Body, StringComparison.Ordinal);
        Assert.Equal(prompt.Length / 4, counted.InputTokens);
        Assert.Empty(harness.Simulator.Requests);
    }

    [Fact]
    public async Task CountTokens_WithoutLlamaServersRoutes_IsTheProxysEstimate_SaidSo()
    {
        await using var app = new HarmonyProxyApplication();
        app.Upstream.When(HttpMethod.Post, "http://llama.test/apply-template").Respond(HttpStatusCode.NotFound);

        using var response = await app.CreateClient().PostAsync("/v1/messages/count_tokens", new StringContent("""{"model":"gpt-oss-20b","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("estimated", response.Headers.GetValues("X-Harmony-Token-Count").Single());
        Assert.True(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["input_tokens"]!.GetValue<int>() > 0);
    }

    [Fact]
    public async Task SilentModel_PingEventsGoOut_ThenTheStream()
    {
        await using var harness = await LoopbackHarness.StartAsync(settings: new() { ["HarmonyProxy:Upstream:KeepAliveSeconds"] = "0.05" });
        var pingSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Simulator.Enqueue(new SimScript { Gate = (index, cancellation) => index == 0 ? pingSeen.Task.WaitAsync(cancellation) : Task.CompletedTask });
        const string Ping = "event: ping\ndata: {\"type\":\"ping\"}\n\n";
        using var http = Http(harness);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages") { Content = new StringContent("""{"model":"gpt-oss-20b","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        var first = new byte[Ping.Length];
        await body.ReadExactlyAsync(first);
        pingSeen.SetResult();
        var rest = await new StreamReader(body).ReadToEndAsync();

        Assert.Equal(Ping, Encoding.UTF8.GetString(first));
        Assert.Equal(Answer, MessagesStream.Assemble(rest)["content"]![1]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task AStreamedRequest_HasItsPromptCountedByLlamaServer_WhileItIsProcessed()
    {
        await using var harness = await LoopbackHarness.StartAsync();
        var tokenizing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Simulator.OtherRequestReceived += path =>
        {
            if (path == "/tokenize")
            {
                tokenizing.TrySetResult();
            }
        };
        // The answer waits for the count, as a real prefill outlasts it.
        harness.Simulator.Enqueue(new SimScript { Gate = (index, cancellation) => index == 0 ? tokenizing.Task.WaitAsync(cancellation) : Task.CompletedTask });
        using var http = Http(harness);

        var message = await PostAsync(http, """{"model":"gpt-oss-20b","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}""", stream: true);

        Assert.Contains(harness.Simulator.OtherRequests, request => request.Path == "/apply-template");
        Assert.Contains(harness.Simulator.OtherRequests, request => request.Path == "/tokenize");
        Assert.True(message["usage"]!["input_tokens"]!.GetValue<int>() > 0);
    }

    [Theory]
    [InlineData(false, HttpStatusCode.BadRequest)]
    [InlineData(true, HttpStatusCode.OK)]
    public async Task AnImage_WhenLlamaServerHasNoVisionProjector_IsAClear400(bool vision, HttpStatusCode expected)
    {
        await using var app = new HarmonyProxyApplication();
        app.Upstream.When(HttpMethod.Get, MockUpstream.HealthUrl).Respond("application/json", """{"status":"ok"}""");
        app.Upstream.When(HttpMethod.Get, MockUpstream.PropsUrl).Respond("application/json", $$"""{"total_slots":1,"modalities":{"vision":{{Json(vision)}},"audio":false} }""");
        app.Upstream.RespondWithStream(LlamaChunks.RawStream(Samples.AnalysisThenFinal));
        var client = app.CreateClient();
        using var ready = await client.GetAsync("/readyz");

        using var response = await client.PostAsync("/v1/messages", new StringContent("""
            {"model":"gpt-oss-20b","max_tokens":100,"messages":[{"role":"user","content":[
              {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},{"type":"text","text":"What is this?"}]}]}
            """, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(expected, response.StatusCode);
        if (!vision)
        {
            Assert.Equal("invalid_request_error", JsonNode.Parse(body)!["error"]!["type"]!.GetValue<string>());
            Assert.Contains("vision projector", body, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(503)]
    [InlineData(0)]
    public async Task LlamaServerLoadingOrDown_IsAnOverloaded529(int upstreamStatus)
    {
        await using var app = new HarmonyProxyApplication(new() { ["HarmonyProxy:Upstream:MaxRetries"] = "0" });
        var route = app.Upstream.When(HttpMethod.Post, HarmonyProxyApplication.UpstreamBase + "/chat/completions");
        if (upstreamStatus == 0)
        {
            route.Throw(new HttpRequestException("Connection refused"));
        }
        else
        {
            route.Respond((HttpStatusCode)upstreamStatus, "application/json", """{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}""");
        }

        using var response = await app.CreateClient().PostAsync("/v1/messages", new StringContent("""{"model":"gpt-oss-20b","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));

        Assert.Equal(529, (int)response.StatusCode);
        Assert.Equal("overloaded_error", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["type"]!.GetValue<string>());
    }

    private static AnthropicClient Client(LoopbackHarness harness) =>
        new() { ApiKey = "sk-local", BaseUrl = harness.Proxy.ServerAddress.ToString().TrimEnd('/') };

    private static HttpClient Http(LoopbackHarness harness)
    {
        var http = new HttpClient { BaseAddress = harness.Proxy.ServerAddress };
        http.DefaultRequestHeaders.Add("anthropic-version", "2023-06-01");
        http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return http;
    }

    private static string Json(bool value) => value ? "true" : "false";

    private static string JsonValueKind(JsonNode? node) => node?.GetValueKind().ToString().ToLowerInvariant() ?? "null";

    /// <summary>
    /// The message: the JSON body, or the stream's events assembled as a client would; each read
    /// and validated by the Anthropic SDK's own models first.
    /// </summary>
    private static async Task<JsonObject> PostAsync(HttpClient http, string body, bool stream)
    {
        using var response = await http.PostAsync("/v1/messages", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        if (!stream)
        {
            System.Text.Json.JsonSerializer.Deserialize<Message>(text)!.Validate();
            return JsonNode.Parse(text)!.AsObject();
        }

        foreach (var data in text.Split('\n').Where(line => line.StartsWith("data: ", StringComparison.Ordinal) && !line.StartsWith("data: {\"type\":\"error\"", StringComparison.Ordinal) && !line.StartsWith("data: {\"type\":\"ping\"", StringComparison.Ordinal)))
        {
            System.Text.Json.JsonSerializer.Deserialize<RawMessageStreamEvent>(data["data: ".Length..])!.Validate();
        }

        return MessagesStream.Assemble(text);
    }
}
