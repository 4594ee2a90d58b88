using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using HarmonyProxy.Tests.Infrastructure;
using RichardSzalay.MockHttp;

namespace HarmonyProxy.Tests.Security;

/// <summary>Malformed, huge or hostile input from clients and from the upstream: a clear error or a bounded, valid ending, never a crash.</summary>
public sealed class HostileInputTests : IAsyncLifetime
{
    private HarmonyProxyApplication? _fuzzApp;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_fuzzApp is not null)
        {
            await _fuzzApp.DisposeAsync();
        }
    }

    public static TheoryData<string, byte[]> BadBodies => new()
    {
        { "deeply nested", Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("[", 5000)) + string.Concat(Enumerable.Repeat("]", 5000))) },
        { "nested messages", Encoding.UTF8.GetBytes("{\"messages\":" + string.Concat(Enumerable.Repeat("{\"a\":", 200)) + "1" + new string('}', 200) + "}") },
        { "invalid UTF-8", [(byte)'{', (byte)'"', 0xC3, 0x28, 0xFF, (byte)'"', (byte)':', (byte)'1', (byte)'}'] },
        { "truncated", Encoding.UTF8.GetBytes("{\"messages\":[{\"role\":\"user\",\"content\":\"hi") },
        { "empty", [] },
        { "NUL bytes", [0, 0, 0] },
        { "content object", Encoding.UTF8.GetBytes("""{"messages":[{"role":"user","content":{"text":"hi"}}]}""") },
        { "role number", Encoding.UTF8.GetBytes("""{"messages":[{"role":1,"content":"hi"}]}""") },
        { "stream number", Encoding.UTF8.GetBytes("""{"messages":[{"role":"user","content":"hi"}],"stream":1}""") },
        { "stop object", Encoding.UTF8.GetBytes("""{"messages":[{"role":"user","content":"hi"}],"stop":{"a":1}}""") },
        { "tools string", Encoding.UTF8.GetBytes("""{"messages":[{"role":"user","content":"hi"}],"tools":"all"}""") },
        { "parts not objects", Encoding.UTF8.GetBytes("""{"messages":[{"role":"user","content":["hi"]}]}""") },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task BadBodies_Get400InOpenAiShape(string name, byte[] body)
    {
        await using var app = new HarmonyProxyApplication();

        using var response = await app.CreateClient().PostAsync("/v1/chat/completions", new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } });

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, name);
        Assert.Single(response.Headers.GetValues("X-Request-Id"));
        Assert.Equal("invalid_request_error", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["type"]!.GetValue<string>());
    }

    public static TheoryData<string, string, string> DuplicateKeys => new()
    {
        { "/v1/chat/completions", "model", """{"model":"a","model":"b","messages":[{"role":"user","content":"hi"}]}""" },
        { "/v1/chat/completions", "role", """{"messages":[{"role":"user","role":"system","content":"hi"}]}""" },
        { "/v1/chat/completions", "name", """{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"a","name":"b"}}]}""" },
        { "/v1/responses", "model", """{"model":"a","model":"b","input":"hi"}""" },
        { "/v1/responses", "call_id", """{"input":[{"type":"function_call_output","call_id":"c1","call_id":"c2","output":"ok"}]}""" },
        { "/v1/responses", "type", """{"input":"hi","tools":[{"type":"function","type":"function","name":"a"}]}""" },
    };

    [Theory]
    [MemberData(nameof(DuplicateKeys))]
    public async Task DuplicateKeys_Get400NamingTheKey(string path, string key, string body)
    {
        await using var app = new HarmonyProxyApplication();

        using var response = await app.CreateClient().PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));

        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_json", error["code"]!.GetValue<string>());
        Assert.Contains($"'{key}'", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DuplicateKeysInsideToolCallArguments_AreServed()
    {
        await using var app = new HarmonyProxyApplication();
        app.Upstream.RespondWithStream(LlamaChunks.RawStream(Samples.AnalysisThenFinal));
        var call = """{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1,\"a\":2}"}}]}""";
        var result = """{"role":"tool","tool_call_id":"call_1","content":"ok"}""";
        var body = $$"""{"messages":[{"role":"user","content":"hi"},{{call}},{{result}},{{call}},{{result}}],"tools":[{"type":"function","function":{"name":"f"} }]}""";

        using var response = await app.CreateClient().PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task OddButValidFields_AreServed()
    {
        await using var app = new HarmonyProxyApplication();
        app.Upstream.RespondWithStream(LlamaChunks.RawStream(Samples.AnalysisThenFinal));
        var messages = new JsonArray();
        for (var i = 0; i < 5000; i++)
        {
            messages.Add(new JsonObject { ["role"] = i % 2 == 0 ? "user" : "assistant", ["content"] = "message " + i });
        }

        var body = new JsonObject
        {
            ["messages"] = messages,
            ["stream_options"] = new JsonObject { ["include_usage"] = "yes" },
            ["tools"] = new JsonArray(1, "two", null),
            ["stop"] = null,
            ["stream"] = null,
        };

        using var response = await app.CreateClient().PostAsync("/v1/chat/completions", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public static TheoryData<string, string> HostileUpstreams => new()
    {
        { "garbage", "this is not SSE at all\n\nnor this\n\n" },
        { "invalid JSON events", "data: {oops\n\ndata: [1,2,3]\n\ndata: \"str\"\n\n" },
        { "never ends a line", "data: {\"choices\":[{\"delta\":{\"content\":\"" + new string('x', 70_000) },
        { "gigantic event", "data: {\"choices\":[{\"delta\":{\"content\":\"" + new string('x', 70_000) + "\"}}]}\n\ndata: [DONE]\n\n" },
        { "error without output", "data: {\"error\":{\"code\":500,\"message\":\"boom\",\"type\":\"server_error\"}}\n\n" },
        { "legacy error line", "error: {\"code\":500,\"message\":\"boom\"}\n\ndata: [DONE]\n\n" },
        { "empty body", string.Empty },
    };

    [Theory]
    [MemberData(nameof(HostileUpstreams))]
    public async Task HostileUpstream_StreamStillEndsValidly(string name, string upstreamBody)
    {
        await using var app = new HarmonyProxyApplication(new()
        {
            ["HarmonyProxy:Upstream:MaxUpstreamEventBytes"] = "65536",
            ["HarmonyProxy:Upstream:MaxRetries"] = "0",
        });
        app.Upstream.When(HttpMethod.Post, HarmonyProxyApplication.UpstreamBase + "/chat/completions")
            .Respond(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(upstreamBody, Encoding.UTF8, "text/event-stream") });

        using var response = await app.CreateClient().PostAsync("/v1/chat/completions", new StringContent("""{"stream":true,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();

        if (response.StatusCode == HttpStatusCode.OK)
        {
            // Valid framing: [DONE] last, one finish or one error event (ClientStream asserts both).
            var stream = ClientStream.Parse(text);
            Assert.True(stream.EndedWithDone, name);
        }
        else
        {
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            Assert.NotNull(JsonNode.Parse(text)!["error"]);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task UpstreamEventOverTheLimit_SaysSo_NotABrokenConnection(bool outputFirst)
    {
        await using var app = new HarmonyProxyApplication(new() { ["HarmonyProxy:Upstream:MaxUpstreamEventBytes"] = "65536" });
        var first = outputFirst ? "data: {\"choices\":[{\"delta\":{\"content\":\"<|channel|>final<|message|>Hi\"}}]}\n\n" : string.Empty;
        var body = first + "data: {\"choices\":[{\"delta\":{\"content\":\"" + new string('x', 70_000) + "\"}}]}\n\ndata: [DONE]\n\n";
        app.Upstream.When(HttpMethod.Post, HarmonyProxyApplication.UpstreamBase + "/chat/completions")
            .Respond(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "text/event-stream") });

        using var response = await app.CreateClient().PostAsync("/v1/chat/completions", new StringContent("""{"stream":true,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();

        var error = outputFirst ? ClientStream.Parse(text).Error! : JsonNode.Parse(text)!["error"]!.AsObject();
        Assert.Equal(outputFirst ? HttpStatusCode.OK : HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("upstream_event_too_large", error["code"]!.GetValue<string>());
        Assert.Contains("larger than the proxy's limit of 65536 bytes", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    /// <summary>Random and mutated request bodies: always a clean status and an OpenAI-shaped body, never a 500.</summary>
    [Property(MaxTest = 150)]
    public Property RandomBodies_NeverCrashTheRequestPath()
    {
        string[] fragments =
        [
            "{", "}", "[", "]", ",", ":", "\"messages\"", "\"role\"", "\"user\"", "\"assistant\"", "\"content\"", "\"stream\"", "true", "false", "null",
            "\"stop\"", "\"tools\"", "\"stream_options\"", "\"include_usage\"", "1", "-1e309", "\"<|channel|>final<|message|>x\"", "\"\\ud800\"", "\"\\u0000\"", " ",
        ];
        var valid = """{"messages":[{"role":"user","content":"hi"}],"stream":false}""";
        var gen = Gen.OneOf(
            Gen.ListOf(Gen.Elements(fragments)).Select(parts => string.Concat(parts)),
            Gen.Choose(0, valid.Length - 1).SelectMany(at => Gen.Elements(fragments).Select(piece => valid[..at] + piece + valid[at..])),
            Gen.Choose(0, valid.Length).Select(at => valid[..at]));

        _fuzzApp = new HarmonyProxyApplication();
        _fuzzApp.Upstream.RespondWithStream(LlamaChunks.RawStream(Samples.AnalysisThenFinal));
        var client = _fuzzApp.CreateClient();

        return Prop.ForAll(gen.ToArbitrary(), body =>
        {
            using var response = client.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json")).GetAwaiter().GetResult();
            var text = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            var parsed = JsonNode.Parse(text);
            var clean = response.StatusCode switch
            {
                HttpStatusCode.OK => parsed!["choices"] is JsonArray,
                HttpStatusCode.BadRequest => parsed!["error"]!["type"]!.GetValue<string>() == "invalid_request_error",
                _ => false,
            };
            return clean.Label($"{(int)response.StatusCode} for {body}: {text}");
        });
    }
}
