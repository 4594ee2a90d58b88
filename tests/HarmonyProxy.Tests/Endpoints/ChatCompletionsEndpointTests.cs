using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using HarmonyProxy.Tests.Infrastructure;
using RichardSzalay.MockHttp;

namespace HarmonyProxy.Tests.Endpoints;

public sealed class ChatCompletionsEndpointTests
{
    private static readonly string[] ParsedEvents =
    [
        LlamaChunks.Role(), LlamaChunks.Reasoning("We need to greet."), LlamaChunks.Content("Hello"), LlamaChunks.Content(" there!"),
        LlamaChunks.Finish("stop"), LlamaChunks.Usage(), LlamaChunks.Done,
    ];

    public static TheoryData<string, string[]> Flavours => new()
    {
        { "raw", LlamaChunks.RawStream(Samples.AnalysisThenFinal) },
        { "stripped", LlamaChunks.RawStream("analysisWe need to greet.assistantfinalHello there!") },
        { "parsed", ParsedEvents },
    };

    [Theory]
    [MemberData(nameof(Flavours))]
    public async Task Streaming_EachFlavour_GivesCleanOpenAiStream(string flavour, string[] events)
    {
        await using var app = new HarmonyProxyApplication();
        app.Upstream.RespondWithStream(events);

        var stream = await PostStreamAsync(app, Request(stream: true));

        Assert.Equal("Hello there!", stream.Content);
        Assert.Equal("We need to greet.", stream.Reasoning);
        Assert.Equal("stop", stream.FinishReason);
        Assert.False(string.IsNullOrEmpty(flavour));
    }

    [Theory]
    [MemberData(nameof(Flavours))]
    public async Task NonStreaming_EachFlavour_GivesOneCompletion(string flavour, string[] events)
    {
        await using var app = new HarmonyProxyApplication();
        app.Upstream.RespondWithStream(events);

        using var response = await app.CreateClient().PostAsync("/v1/chat/completions", Json(Request(stream: false)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("chat.completion", body["object"]!.GetValue<string>());
        var message = body["choices"]![0]!["message"]!;
        Assert.Equal("Hello there!", message["content"]!.GetValue<string>());
        Assert.Equal("We need to greet.", message["reasoning_content"]!.GetValue<string>());
        Assert.Equal("stop", body["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Equal(180, body["usage"]!["total_tokens"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(flavour));
    }

    [Fact]
    public async Task NonStreaming_ToolCall_ReturnsToolCallsAndFinishReason()
    {
        await using var app = new HarmonyProxyApplication();
        app.Upstream.RespondWithStream(LlamaChunks.RawStream(Samples.ToolCall));
        var request = Request(stream: false);
        request["tools"] = JsonNode.Parse("""[{"type":"function","function":{"name":"read_file","parameters":{"type":"object"}}}]""");

        using var response = await app.CreateClient().PostAsync("/v1/chat/completions", Json(request));

        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var call = body["choices"]![0]!["message"]!["tool_calls"]![0]!;
        Assert.Equal("read_file", call["function"]!["name"]!.GetValue<string>());
        Assert.Equal("{\"path\": \"a.py\", \"mode\": \"r\"}", call["function"]!["arguments"]!.GetValue<string>());
        Assert.StartsWith("call_", call["id"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("tool_calls", body["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Null(body["choices"]![0]!["message"]!["content"]);
    }

    [Theory]
    [InlineData("X-Harmony-Reasoning", "none", null, "Hello there!")]
    [InlineData("X-Harmony-Reasoning", "think_tags", null, "<think>\nWe need to greet.\n</think>\n\nHello there!")]
    [InlineData("X-Harmony-Mode", "final_only", null, "Hello there!")]
    [InlineData("X-Harmony-Mode", "kilocode", "We need to greet.", "Hello there!")]
    public async Task OutputHeaders_OverrideConfiguration(string header, string value, string? reasoning, string content)
    {
        await using var app = new HarmonyProxyApplication();
        app.Upstream.RespondWithStream(LlamaChunks.RawStream(Samples.AnalysisThenFinal));

        var stream = await PostStreamAsync(app, Request(stream: true), (header, value));

        Assert.Equal(reasoning, stream.Reasoning);
        Assert.Equal(content, stream.Content);
    }

    [Fact]
    public async Task ToolCallsHeader_Text_RendersCallAsContent()
    {
        await using var app = new HarmonyProxyApplication();
        app.Upstream.RespondWithStream(LlamaChunks.RawStream(Samples.ToolCall));

        var stream = await PostStreamAsync(app, Request(stream: true), ("X-Harmony-Tool-Calls", "text"));

        Assert.Empty(stream.ToolCalls);
        Assert.Contains("Tool call: read_file", stream.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProxyModeSetting_FinalPlusToolsText_AppliesToEveryRequest()
    {
        await using var app = new HarmonyProxyApplication(new() { ["HarmonyProxy:Output:ProxyMode"] = "final_plus_tools_text" });
        app.Upstream.RespondWithStream(LlamaChunks.RawStream(Samples.ToolCall));

        var stream = await PostStreamAsync(app, Request(stream: true));

        Assert.Null(stream.Reasoning);
        Assert.Empty(stream.ToolCalls);
        Assert.Contains("{\"path\": \"a.py\", \"mode\": \"r\"}", stream.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadOutputHeader_Is400()
    {
        await using var app = new HarmonyProxyApplication();

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json(Request(stream: true)) };
        request.Headers.Add("X-Harmony-Reasoning", "loud");
        using var response = await app.CreateClient().SendAsync(request);

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request_error", "invalid_header");
    }

    [Theory]
    [InlineData(null, """["<|return|>","<|call|>"]""")]
    [InlineData("\"END\"", """["END","<|return|>","<|call|>"]""")]
    [InlineData("""["END","<|call|>","END"]""", """["END","<|call|>","<|return|>"]""")]
    public async Task Stops_AreMergedWithoutDuplicates(string? clientStop, string expected)
    {
        await using var app = new HarmonyProxyApplication();
        var received = app.Upstream.RespondWithStream(LlamaChunks.RawStream(Samples.AnalysisThenFinal));
        var request = Request(stream: true);
        if (clientStop is not null)
        {
            request["stop"] = JsonNode.Parse(clientStop);
        }

        await PostStreamAsync(app, request);

        Assert.Equal(Strings(expected), Strings(received.Single()["stop"]));
    }

    [Fact]
    public async Task Stops_ExtraConfiguredAndSwitchedOff()
    {
        await using var withExtra = new HarmonyProxyApplication(new() { ["HarmonyProxy:Requests:ExtraStopSequences:0"] = "<|end|>" });
        var received = withExtra.Upstream.RespondWithStream(LlamaChunks.RawStream(Samples.AnalysisThenFinal));
        await PostStreamAsync(withExtra, Request(stream: true));
        Assert.Equal(["<|return|>", "<|call|>", "<|end|>"], Strings(received.Single()["stop"]));

        await using var off = new HarmonyProxyApplication(new() { ["HarmonyProxy:Requests:HarmonyStopsEnabled"] = "false" });
        var receivedOff = off.Upstream.RespondWithStream(LlamaChunks.RawStream(Samples.AnalysisThenFinal));
        await PostStreamAsync(off, Request(stream: true));
        Assert.Null(receivedOff.Single()["stop"]);
    }

    [Fact]
    public async Task UnknownFields_PassThroughAndStreamingIsForcedUpstream()
    {
        await using var app = new HarmonyProxyApplication();
        var received = app.Upstream.RespondWithStream(LlamaChunks.RawStream(Samples.AnalysisThenFinal));
        var request = Request(stream: false);
        request["model"] = "gpt-oss-120b";
        request["temperature"] = 0.2;
        request["max_tokens"] = 32000;
        request["tool_choice"] = "auto";
        request["tools"] = JsonNode.Parse("""[{"type":"function","function":{"name":"read_file","parameters":{"type":"object","properties":{"path":{"type":"string","minLength":1}},"additionalProperties":false}}}]""");
        request["response_format"] = JsonNode.Parse("""{"type":"text"}""");
        request["chat_template_kwargs"] = JsonNode.Parse("""{"reasoning_effort":"high"}""");

        using var response = await app.CreateClient().PostAsync("/v1/chat/completions", Json(request));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = received.Single();
        foreach (var field in new[] { "model", "temperature", "max_tokens", "tool_choice", "tools", "response_format", "chat_template_kwargs" })
        {
            Assert.Equal(request[field]!.ToJsonString(), sent[field]!.ToJsonString());
        }

        Assert.True(sent["stream"]!.GetValue<bool>());
        Assert.True(sent["stream_options"]!["include_usage"]!.GetValue<bool>());
    }

    [Fact]
    public async Task History_WithHarmonyMarkup_IsCleanedBeforeUpstream()
    {
        await using var app = new HarmonyProxyApplication();
        var received = app.Upstream.RespondWithStream(LlamaChunks.RawStream(Samples.AnalysisThenFinal));
        var request = JsonNode.Parse("""
            {"stream":true,"messages":[
              {"role":"user","content":[{"type":"text","text":"read a.py"}]},
              {"role":"assistant","content":"<|channel|>analysis<|message|>Need it.<|end|><|start|>assistant<|channel|>commentary<|message|>Reading.","tool_calls":[{"id":"call_1","type":"function","function":{"name":"read_file","arguments":"{}"}}]},
              {"role":"tool","tool_call_id":"call_1","content":"{\"text\":\"print(1)\"}"},
              {"role":"assistant","content":null,"tool_calls":[{"id":"call_2","type":"function","function":{"name":"read_file","arguments":"{}"}}]},
              {"role":"tool","tool_call_id":"call_2","content":"x"},
              {"role":"assistant","content":"<|channel|>analysis<|message|>Secret.<|end|><|start|>assistant<|channel|>final<|message|>It prints 1."},
              {"role":"user","content":"thanks"}
            ]}
            """)!.AsObject();

        var stream = await PostStreamAsync(app, request);

        var messages = received.Single()["messages"]!.AsArray();
        Assert.Equal("Reading.", messages[1]!["content"]!.GetValue<string>());
        // Before the final answer of message 5: Harmony's rule drops this turn's reasoning.
        Assert.Null(messages[1]!["reasoning_content"]);
        Assert.Null(messages[3]!["content"]);
        Assert.Equal("It prints 1.", messages[5]!["content"]!.GetValue<string>());
        Assert.Null(messages[5]!["reasoning_content"]);
        Assert.Equal("read a.py", messages[0]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal("Hello there!", stream.Content);
    }

    [Theory]
    [InlineData("{not json", "invalid_json", null)]
    [InlineData("[1,2]", "invalid_json", null)]
    [InlineData("{}", "missing_required_parameter", "messages")]
    [InlineData("""{"messages":"hi"}""", "invalid_type", "messages")]
    [InlineData("""{"messages":[]}""", "invalid_value", "messages")]
    [InlineData("""{"messages":[42]}""", "invalid_type", "messages[0]")]
    [InlineData("""{"messages":[{"content":"hi"}]}""", "invalid_type", "messages[0].role")]
    [InlineData("""{"messages":[{"role":"user","content":5}]}""", "invalid_type", "messages[0].content")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"stream":"yes"}""", "invalid_type", "stream")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"stop":[1]}""", "invalid_type", "stop")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"stream_options":true}""", "invalid_type", "stream_options")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"tools":{}}""", "invalid_type", "tools")]
    public async Task BadInput_Is400InOpenAiShape(string body, string code, string? param)
    {
        await using var app = new HarmonyProxyApplication();
        var received = app.Upstream.RespondWithStream(LlamaChunks.RawStream(Samples.AnalysisThenFinal));

        using var response = await app.CreateClient().PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));

        var error = await AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request_error", code);
        Assert.Equal(param, error["param"]?.GetValue<string>());
        Assert.Empty(received);
    }

    [Fact]
    public async Task TooLargeBody_Is413()
    {
        await using var app = new HarmonyProxyApplication(new() { ["HarmonyProxy:Requests:MaxRequestBodyBytes"] = "1000" });
        var request = Request(stream: true);
        request["messages"]![0]!["content"] = new string('x', 2000);

        using var response = await app.CreateClient().PostAsync("/v1/chat/completions", Json(request));

        await AssertErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "invalid_request_error", "request_too_large");
    }

    [Fact]
    public async Task UnknownRoute_Is404InOpenAiShape()
    {
        await using var app = new HarmonyProxyApplication();

        using var response = await app.CreateClient().GetAsync("/v1/engines");

        await AssertErrorAsync(response, HttpStatusCode.NotFound, "not_found_error", "not_found");
    }

    [Fact]
    public async Task UpstreamLoadingModel_Is503WithRetryAfterAndUpstreamMessage()
    {
        await using var app = new HarmonyProxyApplication(new() { ["HarmonyProxy:Upstream:MaxRetries"] = "0" });
        app.Upstream.RespondWithError(HttpStatusCode.ServiceUnavailable, """{"error":{"message":"Loading model","type":"unavailable_error","code":503}}""", TimeSpan.FromSeconds(5));

        using var response = await app.CreateClient().PostAsync("/v1/chat/completions", Json(Request(stream: true)));

        var error = await AssertErrorAsync(response, HttpStatusCode.ServiceUnavailable, "upstream_error", "upstream_unavailable");
        Assert.Contains("Loading model", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("5", response.Headers.RetryAfter!.ToString());
    }

    [Fact]
    public async Task Upstream500_Is502WithUpstreamMessage()
    {
        await using var app = new HarmonyProxyApplication();
        app.Upstream.RespondWithError(HttpStatusCode.InternalServerError, """{"error":{"code":500,"message":"Failed to parse input at pos 0: ??","type":"server_error"}}""");

        using var response = await app.CreateClient().PostAsync("/v1/chat/completions", Json(Request(stream: false)));

        var error = await AssertErrorAsync(response, HttpStatusCode.BadGateway, "upstream_error", "upstream_error");
        Assert.Contains("Failed to parse input at pos 0", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upstream400_KeepsStatusAndMessage()
    {
        await using var app = new HarmonyProxyApplication();
        app.Upstream.RespondWithError(HttpStatusCode.BadRequest, """{"error":{"code":400,"message":"Invalid tool_choice: sometimes","type":"invalid_request_error"}}""");

        using var response = await app.CreateClient().PostAsync("/v1/chat/completions", Json(Request(stream: true)));

        var error = await AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request_error", "upstream_rejected");
        Assert.Equal("Invalid tool_choice: sometimes", error["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(true, """{"error":{"code":400,"message":"request (9000 tokens) exceeds the available context size (8192 tokens), try increasing it","type":"exceed_context_size_error","n_prompt_tokens":9000,"n_ctx":8192}}""")]
    [InlineData(false, """{"error":{"code":400,"message":"request (9000 tokens) exceeds the available context size (8192 tokens), try increasing it","type":"exceed_context_size_error","n_prompt_tokens":9000,"n_ctx":8192}}""")]
    [InlineData(true, """{"error":{"code":400,"message":"request (9000 tokens) exceeds the available context size (8192 tokens), try increasing it","type":"exceed_context_size_error"}}""")]
    public async Task UpstreamContextOverflow_IsOpenAIsContextLengthExceeded(bool stream, string upstreamBody)
    {
        await using var app = new HarmonyProxyApplication();
        app.Upstream.RespondWithError(HttpStatusCode.BadRequest, upstreamBody);

        using var response = await app.CreateClient().PostAsync("/v1/chat/completions", Json(Request(stream)));

        var error = await AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request_error", "context_length_exceeded");
        Assert.Equal("messages", error["param"]!.GetValue<string>());
        Assert.StartsWith("This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpstreamContextOverflow_OlderBuildsMessage_IsContextLengthExceededToo()
    {
        await using var app = new HarmonyProxyApplication();
        app.Upstream.RespondWithError(HttpStatusCode.BadRequest, """{"error":{"code":400,"message":"the request exceeds the available context size, try increasing the context size or enable context shift","type":"invalid_request_error"}}""");

        using var response = await app.CreateClient().PostAsync("/v1/chat/completions", Json(Request(stream: false)));

        var error = await AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request_error", "context_length_exceeded");
        Assert.Contains("maximum context length was exceeded", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task UpstreamUnreachable_Is502_WithConnectionDetailsOnlyWhenExposed(bool expose)
    {
        await using var app = new HarmonyProxyApplication(new() { ["HarmonyProxy:Security:ExposeUpstreamErrorDetails"] = expose ? "true" : "false" });
        app.Upstream.When(HttpMethod.Post, HarmonyProxyApplication.UpstreamBase + "/chat/completions").Throw(new HttpRequestException("Connection refused (llama.internal:8080)"));

        using var response = await app.CreateClient().PostAsync("/v1/chat/completions", Json(Request(stream: true)));

        var error = await AssertErrorAsync(response, HttpStatusCode.BadGateway, "upstream_error", "upstream_unreachable");
        Assert.Equal(expose, error["message"]!.GetValue<string>().Contains("llama.internal:8080", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Models_ArePassedThrough()
    {
        await using var app = new HarmonyProxyApplication();
        app.Upstream.When(HttpMethod.Get, HarmonyProxyApplication.UpstreamBase + "/models").Respond("application/json", """{"object":"list","data":[{"id":"gpt-oss-20b","object":"model","owned_by":"llamacpp"}]}""");
        app.Upstream.When(HttpMethod.Get, HarmonyProxyApplication.UpstreamBase + "/models/gpt-oss-20b").Respond("application/json", """{"id":"gpt-oss-20b","object":"model"}""");

        var list = await app.CreateClient().GetFromJsonAsync<JsonObject>("/v1/models");
        var one = await app.CreateClient().GetFromJsonAsync<JsonObject>("/v1/models/gpt-oss-20b");

        Assert.Equal("gpt-oss-20b", list!["data"]![0]!["id"]!.GetValue<string>());
        Assert.Equal("gpt-oss-20b", one!["id"]!.GetValue<string>());
    }

    private static string[] Strings(JsonNode? array) => array!.AsArray().Select(item => item!.GetValue<string>()).ToArray();

    private static string[] Strings(string json) => Strings(JsonNode.Parse(json));

    private static JsonObject Request(bool stream) => new()
    {
        ["model"] = "gpt-oss-20b",
        ["stream"] = stream,
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }),
    };

    private static StringContent Json(JsonNode body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    private static async Task<ClientStream> PostStreamAsync(HarmonyProxyApplication app, JsonObject request, params (string Name, string Value)[] headers)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json(request) };
        foreach (var (name, value) in headers)
        {
            message.Headers.Add(name, value);
        }

        using var response = await app.CreateClient().SendAsync(message);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        return ClientStream.Parse(await response.Content.ReadAsStringAsync());
    }

    private static async Task<JsonObject> AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string type, string code)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!.AsObject();
        Assert.Equal(type, error["type"]!.GetValue<string>());
        Assert.Equal(code, error["code"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(error["message"]!.GetValue<string>()));
        return error;
    }
}
