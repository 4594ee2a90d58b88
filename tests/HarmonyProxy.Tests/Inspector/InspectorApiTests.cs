using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using HarmonyProxy.Tests.Infrastructure;
using LlamaServerSim;

namespace HarmonyProxy.Tests.Inspector;

/// <summary>
/// The inspector's JSON API over loopback against the simulator: a request appears with its
/// traffic (what the client sent, what went to llama-server, llama-server's raw Harmony, what the
/// client got), a recovery shows its attempts, secrets never show, and only those allowed get in.
/// </summary>
public sealed class InspectorApiTests
{
    private const string ReadFile = """[{"type":"function","function":{"name":"read_file","parameters":{"type":"object","properties":{"path":{"type":"string"}}}}}]""";

    [Fact]
    public async Task AStreamedToolCall_AppearsWithItsRawHarmony_AndTheNativeCall()
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Raw);

        using var chat = await harness.Http.PostAsync("/v1/chat/completions", ChatRequest.Body(stream: true, """[{"role":"user","content":"read the readme"}]""", ",\"tools\":" + ReadFile));
        await chat.Content.ReadAsStringAsync();
        var list = await GetJsonAsync(harness.Http, "/ui/api/requests");
        var summary = list["requests"]![0]!;
        var detail = await GetJsonAsync(harness.Http, "/ui/api/requests/" + summary["id"]!.GetValue<string>());

        Assert.Equal("chat_completions", summary["endpoint"]!.GetValue<string>());
        Assert.Equal(200, summary["status"]!.GetValue<int>());
        Assert.True(summary["done"]!.GetValue<bool>());
        Assert.Equal("raw", summary["flavour"]!.GetValue<string>());
        Assert.Equal(1, summary["toolCalls"]!.GetValue<int>());
        Assert.Contains("read the readme", detail["clientRequest"]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("chat/completions", detail["upstreamRequests"]![0]!["route"]!.GetValue<string>());
        Assert.Contains("\"stream\":true", detail["upstreamRequests"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.StartsWith("<|channel|>analysis<|message|>", detail["upstreamOutput"]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("to=functions.read_file", detail["upstreamOutput"]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
        var call = detail["clientReceived"]!["toolCalls"]![0]!;
        Assert.Equal("read_file", call["name"]!.GetValue<string>());
        Assert.Equal("{\"path\":\"README.md\"}", call["arguments"]!["text"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(detail["clientReceived"]!["reasoning"]!["text"]!.GetValue<string>()));
        Assert.True(detail["attemptLog"]![0]!["completed"]!.GetValue<bool>());
    }

    [Fact]
    public async Task ARecoveredRequest_ShowsItsAttemptsAndTheContinuation()
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Parsed);
        harness.Simulator.Options = harness.Simulator.Options with { ParseFailure = SimParseFailure.AfterReasoning };

        using var chat = await harness.Http.PostAsync("/v1/chat/completions", ChatRequest.Body(stream: true));
        await chat.Content.ReadAsStringAsync();
        var id = (await GetJsonAsync(harness.Http, "/ui/api/requests"))["requests"]![0]!["id"]!.GetValue<string>();
        var detail = await GetJsonAsync(harness.Http, "/ui/api/requests/" + id);

        Assert.Equal("continuation", detail["recovery"]!.GetValue<string>());
        Assert.Equal(2, detail["attemptLog"]!.AsArray().Count);
        Assert.Equal("continuation", detail["attemptLog"]![0]!["next"]!.GetValue<string>());
        Assert.Equal(["chat/completions", "completion"], detail["upstreamRequests"]!.AsArray().Select(request => request!["route"]!.GetValue<string>()));
        var output = detail["upstreamOutput"]!["text"]!.GetValue<string>();
        Assert.Contains("[error] Failed to parse input", output, StringComparison.Ordinal);
        Assert.Contains("[attempt 2: completion]", output, StringComparison.Ordinal);
        Assert.Equal("Hello! I am a simulated gpt-oss behind llama-server. How can I help you today?", detail["clientReceived"]!["content"]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task Secrets_NeverReachThePage()
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Raw, new()
        {
            ["HarmonyProxy:Upstream:ApiKey"] = "sk-upstream-secret-0001",
            ["HarmonyProxy:Security:ApiKeys:0"] = "client-key-secret-0002",
        });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = ChatRequest.Body(stream: false, """[{"role":"user","content":"my key is client-key-secret-0002 and sk-other-ABCDEFGHIJ"}]"""),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "client-key-secret-0002");

        (await harness.Http.SendAsync(request)).EnsureSuccessStatusCode();
        var id = (await GetJsonAsync(harness.Http, "/ui/api/requests"))["requests"]![0]!["id"]!.GetValue<string>();
        var detail = await harness.Http.GetStringAsync("/ui/api/requests/" + id);

        Assert.DoesNotContain("client-key-secret-0002", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-upstream-secret-0001", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-other-ABCDEFGHIJ", detail, StringComparison.Ordinal);
        Assert.Contains("[redacted]", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Filters_AndSearch()
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Raw);
        (await harness.Http.PostAsync("/v1/chat/completions", ChatRequest.Body(stream: false, """[{"role":"user","content":"find the needle-4711"}]"""))).EnsureSuccessStatusCode();
        await harness.Http.PostAsync("/v1/chat/completions", new StringContent("{not json", Encoding.UTF8, "application/json"));

        var failed = (await GetJsonAsync(harness.Http, "/ui/api/requests?status=4xx"))["requests"]!.AsArray();
        var found = (await GetJsonAsync(harness.Http, "/ui/api/requests?q=needle-4711"))["requests"]!.AsArray();
        var none = (await GetJsonAsync(harness.Http, "/ui/api/requests?model=gpt-oss-120b"))["requests"]!.AsArray();

        Assert.Equal(400, Assert.Single(failed)!["status"]!.GetValue<int>());
        Assert.Equal(200, Assert.Single(found)!["status"]!.GetValue<int>());
        Assert.Empty(none);
    }

    [Fact]
    public async Task ThePage_IsServedFromTheExecutable_WithAStrictContentPolicy()
    {
        await using var harness = await LoopbackHarness.StartAsync();

        using var page = await harness.Http.GetAsync("/ui");
        using var script = await harness.Http.GetAsync("/ui/app.js");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        Assert.Contains("HarmonyProxy", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.StartsWith("default-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Contains("refreshList", await script.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NotFromLoopback_WithoutAToken_IsRefused()
    {
        // The in-memory test server's connections have no address: not loopback.
        await using var app = new HarmonyProxyApplication();
        using var http = app.CreateClient();

        using var response = await http.GetAsync("/ui/api/requests");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("inspector_loopback_only", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task WithAToken_TheTokenOpensIt_AClientKeyDoesNot_AndTheLoginSetsACookie()
    {
        await using var app = new HarmonyProxyApplication(new()
        {
            ["HarmonyProxy:Inspector:Token"] = "inspector-token-0003",
            ["HarmonyProxy:Security:ApiKeys:0"] = "client-key-0004",
        });
        using var http = app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

        using var bare = await http.GetAsync("/ui/api/requests");
        using var withClientKey = await SendAsync(http, "/ui/api/requests", "client-key-0004");
        using var withToken = await SendAsync(http, "/ui/api/requests", "inspector-token-0003");
        using var loginPage = await http.GetAsync("/ui");
        using var wrongLogin = await http.PostAsync("/ui/login", new FormUrlEncodedContent([new("token", "guess")]));
        using var login = await http.PostAsync("/ui/login", new FormUrlEncodedContent([new("token", "inspector-token-0003")]));
        using var afterLogin = await http.GetAsync("/ui/api/requests");

        Assert.Equal(HttpStatusCode.Unauthorized, bare.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, withClientKey.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withToken.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, loginPage.StatusCode);
        Assert.Contains("name=\"token\"", await loginPage.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongLogin.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        Assert.Contains("HttpOnly", login.Headers.GetValues("Set-Cookie").Single(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.OK, afterLogin.StatusCode);
    }

    [Fact]
    public async Task Off_KeepsNothing_AndHasNoPage()
    {
        await using var harness = await LoopbackHarness.StartAsync(settings: new() { ["HarmonyProxy:Inspector:Enabled"] = "false" });

        (await harness.Http.PostAsync("/v1/chat/completions", ChatRequest.Body(stream: false))).EnsureSuccessStatusCode();
        using var page = await harness.Http.GetAsync("/ui");

        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
    }

    private static async Task<JsonNode> GetJsonAsync(HttpClient http, string path) => JsonNode.Parse(await http.GetStringAsync(path))!;

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, string path, string bearer)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return await http.SendAsync(request);
    }
}
