using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using HarmonyProxy.Tests.Infrastructure;
using RichardSzalay.MockHttp;

namespace HarmonyProxy.Tests.Security;

public sealed class SecurityTests
{
    private const string ClientKey = "sk-client-key-0123456789";
    private const string UpstreamKey = "upstream-secret-456";

    private static Dictionary<string, string?> WithKeys(params (string Key, string? Value)[] more)
    {
        var settings = new Dictionary<string, string?> { ["HarmonyProxy:Security:ApiKeys:0"] = ClientKey, ["HarmonyProxy:Security:ApiKeys:1"] = "sk-other" };
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return settings;
    }

    [Theory]
    [InlineData(null, null, HttpStatusCode.Unauthorized)]
    [InlineData("Authorization", "Bearer sk-wrong", HttpStatusCode.Unauthorized)]
    [InlineData("Authorization", "Basic " + ClientKey, HttpStatusCode.Unauthorized)]
    [InlineData("Authorization", "Bearer " + ClientKey, HttpStatusCode.OK)]
    [InlineData("api-key", ClientKey, HttpStatusCode.OK)]
    [InlineData("x-api-key", ClientKey, HttpStatusCode.OK)]
    [InlineData("x-api-key", "sk-other", HttpStatusCode.OK)]
    public async Task ApiKeys_AreRequiredOnTheApi(string? header, string? value, HttpStatusCode expected)
    {
        await using var app = new HarmonyProxyApplication(WithKeys());
        app.Upstream.RespondWithStream(LlamaChunks.RawStream(Samples.AnalysisThenFinal));

        using var response = await SendAsync(app, "/v1/chat/completions", header is null ? [] : [(header, value!)]);

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.Unauthorized)
        {
            var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
            Assert.Equal("authentication_error", error["type"]!.GetValue<string>());
            Assert.Equal("invalid_api_key", error["code"]!.GetValue<string>());
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
            // Refused at the edge, it still has its one ending value, reported as every other.
            Assert.Equal(1, await app.MetricAsync("""harmony_proxy_requests_total{endpoint="edge",stream="unknown",outcome="client_error"}"""));
        }
    }

    [Fact]
    public async Task ApiKeys_FromAFile_AreAccepted()
    {
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, "# team keys\nsk-from-file\n\n");
        try
        {
            await using var app = new HarmonyProxyApplication(new() { ["HarmonyProxy:Security:ApiKeysFile"] = file });
            app.Upstream.When(HttpMethod.Get, HarmonyProxyApplication.UpstreamBase + "/models").Respond("application/json", "{}");

            using var accepted = await SendAsync(app, "/v1/models", [("Authorization", "Bearer sk-from-file")], HttpMethod.Get);
            using var refused = await SendAsync(app, "/v1/models", [("Authorization", "Bearer # team keys")], HttpMethod.Get);

            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Probes_StayOpen_MetricsCanHaveTheirOwnToken()
    {
        await using var app = new HarmonyProxyApplication(WithKeys(("HarmonyProxy:Security:MetricsBearerToken", "scrape-token")));
        app.Upstream.RespondToReadiness();

        using var healthz = await SendAsync(app, "/healthz", [], HttpMethod.Get);
        using var readyz = await SendAsync(app, "/readyz", [], HttpMethod.Get);
        using var metricsWithout = await SendAsync(app, "/metrics", [], HttpMethod.Get);
        using var metricsWithClientKey = await SendAsync(app, "/metrics", [("Authorization", "Bearer " + ClientKey)], HttpMethod.Get);
        using var metricsWith = await SendAsync(app, "/metrics", [("Authorization", "Bearer scrape-token")], HttpMethod.Get);

        Assert.Equal(HttpStatusCode.OK, healthz.StatusCode);
        Assert.Equal(HttpStatusCode.OK, readyz.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, metricsWithout.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, metricsWithClientKey.StatusCode);
        Assert.Equal(HttpStatusCode.OK, metricsWith.StatusCode);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task UpstreamKey_ReplacesTheClientsAuthorization_OnlyAllowListedHeadersGoUp(bool upstreamKeyConfigured)
    {
        await using var app = new HarmonyProxyApplication(upstreamKeyConfigured ? new() { ["HarmonyProxy:Upstream:ApiKey"] = UpstreamKey } : null);
        HttpRequestMessage? seen = null;
        var body = LlamaChunks.Sse(LlamaChunks.RawStream(Samples.AnalysisThenFinal));
        app.Upstream.When(HttpMethod.Post, HarmonyProxyApplication.UpstreamBase + "/chat/completions").Respond(request =>
        {
            seen = request;
            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "text/event-stream") };
            response.Headers.TryAddWithoutValidation("X-Internal-Node", "gpu-7.cluster.local");
            response.Headers.TryAddWithoutValidation("Server", "llama.cpp");
            return response;
        });

        using var response = await SendAsync(app, "/v1/chat/completions",
            [("Authorization", "Bearer " + ClientKey), ("Cookie", "session=abc"), ("X-Forwarded-For", "10.0.0.1"), ("X-Custom", "1")]);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(upstreamKeyConfigured ? "Bearer " + UpstreamKey : "Bearer " + ClientKey, seen!.Headers.Authorization!.ToString());
        Assert.Empty(seen.Headers.Select(h => h.Key).Except(["Authorization", "Accept", "traceparent", "tracestate", "Request-Id"], StringComparer.OrdinalIgnoreCase));
        Assert.False(response.Headers.Contains("X-Internal-Node"));
        Assert.DoesNotContain("llama.cpp", response.Headers.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientKeys_NeverGoUpstream_WhenTheProxyHasNoUpstreamKey()
    {
        await using var app = new HarmonyProxyApplication(WithKeys());
        var seen = new List<HttpRequestMessage>();
        var body = LlamaChunks.Sse(LlamaChunks.RawStream(Samples.AnalysisThenFinal));
        app.Upstream.When(HttpMethod.Post, HarmonyProxyApplication.UpstreamBase + "/chat/completions").Respond(request =>
        {
            seen.Add(request);
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "text/event-stream") };
        });
        app.Upstream.When(HttpMethod.Get, HarmonyProxyApplication.UpstreamBase + "/models").Respond(request =>
        {
            seen.Add(request);
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("""{"data":[]}""") };
        });

        using var chat = await SendAsync(app, "/v1/chat/completions", [("Authorization", "Bearer " + ClientKey)]);
        using var models = await SendAsync(app, "/v1/models", [("Authorization", "Bearer " + ClientKey)], HttpMethod.Get);

        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        Assert.Equal(HttpStatusCode.OK, models.StatusCode);
        Assert.Equal(2, seen.Count);
        Assert.All(seen, request => Assert.Null(request.Headers.Authorization));
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized)]
    [InlineData(HttpStatusCode.Forbidden)]
    public async Task UpstreamKeyRefused_Is502NotTheClientsFault_AndNotReady(HttpStatusCode refusal)
    {
        await using var app = new HarmonyProxyApplication(new() { ["HarmonyProxy:Upstream:ApiKey"] = UpstreamKey });
        var error = """{"error":{"code":401,"message":"Invalid API Key","type":"authentication_error"}}""";
        app.Upstream.When(HttpMethod.Post, HarmonyProxyApplication.UpstreamBase + "/chat/completions").Respond(refusal, "application/json", error);
        app.Upstream.When(HttpMethod.Get, HarmonyProxyApplication.UpstreamBase + "/models").Respond(refusal, "application/json", error);
        app.Upstream.When(HttpMethod.Get, MockUpstream.HealthUrl).Respond("application/json", """{"status":"ok"}""");
        app.Upstream.When(HttpMethod.Get, MockUpstream.PropsUrl).Respond(refusal, "application/json", error);

        using var chat = await SendAsync(app, "/v1/chat/completions", []);
        using var models = await SendAsync(app, "/v1/models", [], HttpMethod.Get);
        using var ready = await SendAsync(app, "/readyz", [], HttpMethod.Get);

        foreach (var response in new[] { chat, models })
        {
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
            Assert.Equal("upstream_key_refused", body["code"]!.GetValue<string>());
            Assert.Contains("The proxy's upstream key was refused", body["message"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("refused the proxy's upstream key", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpstreamKey_FromAFile_IsSentOnReadinessProbesToo()
    {
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, UpstreamKey + "\n");
        try
        {
            await using var app = new HarmonyProxyApplication(new() { ["HarmonyProxy:Upstream:ApiKeyFile"] = file });
            string? authorization = null;
            app.Upstream.When(HttpMethod.Get, MockUpstream.HealthUrl).Respond("application/json", """{"status":"ok"}""");
            app.Upstream.When(HttpMethod.Get, MockUpstream.PropsUrl).Respond(request =>
            {
                authorization = request.Headers.Authorization?.ToString();
                return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("{}") };
            });

            using var response = await SendAsync(app, "/readyz", [], HttpMethod.Get);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("Bearer " + UpstreamKey, authorization);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Secrets_NeverReachLogsOrMetrics_EvenAtVerbose()
    {
        await using var app = new HarmonyProxyApplication(WithKeys(
            ("HarmonyProxy:Upstream:ApiKey", UpstreamKey),
            ("Serilog:MinimumLevel:Default", "Verbose"),
            ("Serilog:MinimumLevel:Override:Microsoft.AspNetCore", "Verbose"),
            ("Serilog:MinimumLevel:Override:System.Net.Http.HttpClient", "Verbose")));
        app.Upstream.RespondWithStream(LlamaChunks.RawStream(Samples.AnalysisThenFinal));

        using var ok = await SendAsync(app, "/v1/chat/completions", [("Authorization", "Bearer " + ClientKey)]);
        using var refused = await SendAsync(app, "/v1/chat/completions", [("Authorization", "Bearer sk-guessed-key")]);
        var metrics = await (await SendAsync(app, "/metrics", [], HttpMethod.Get)).Content.ReadAsStringAsync();

        var leaking = app.LogEvents.Events.Where(e => e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture).Contains(UpstreamKey, StringComparison.Ordinal) || e.Properties.Values.Any(v => v.ToString().Contains(UpstreamKey, StringComparison.Ordinal))).Select(e => e.Properties.TryGetValue("SourceContext", out var source) ? source.ToString() + " " + e.MessageTemplate.Text : e.MessageTemplate.Text).ToList();
        Assert.True(leaking.Count == 0, string.Join("\n", leaking));
        var logs = app.LogEvents.AllText();
        Assert.NotEmpty(app.LogEvents.Events);
        foreach (var secret in new[] { ClientKey, UpstreamKey, "sk-guessed-key", "We need to greet.", "Hello there!" })
        {
            Assert.DoesNotContain(secret, logs, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, metrics, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task RateLimit_PerClient_Is429WithRetryAfter()
    {
        await using var app = new HarmonyProxyApplication(WithKeys(("HarmonyProxy:Security:RequestsPerMinutePerClient", "2")));
        app.Upstream.When(HttpMethod.Get, HarmonyProxyApplication.UpstreamBase + "/models").Respond("application/json", "{}");

        for (var i = 0; i < 2; i++)
        {
            using var allowed = await SendAsync(app, "/v1/models", [("Authorization", "Bearer " + ClientKey)], HttpMethod.Get);
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        using var limited = await SendAsync(app, "/v1/models", [("Authorization", "Bearer " + ClientKey)], HttpMethod.Get);
        using var otherClient = await SendAsync(app, "/v1/models", [("Authorization", "Bearer sk-other")], HttpMethod.Get);
        using var probe = await SendAsync(app, "/healthz", [], HttpMethod.Get);

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.NotNull(limited.Headers.RetryAfter);
        Assert.Equal("rate_limited", JsonNode.Parse(await limited.Content.ReadAsStringAsync())!["error"]!["code"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, otherClient.StatusCode);
        Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
    }

    [Fact]
    public async Task ConcurrencyLimit_PerClient_Is429WhileTheFirstIsRunning()
    {
        await using var app = new HarmonyProxyApplication(new() { ["HarmonyProxy:Security:ConcurrentRequestsPerClient"] = "1" });
        var release = new TaskCompletionSource();
        var entered = new TaskCompletionSource();
        app.Upstream.When(HttpMethod.Get, HarmonyProxyApplication.UpstreamBase + "/models").Respond(async () =>
        {
            entered.TrySetResult();
            await release.Task;
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("{}") };
        });

        var first = SendAsync(app, "/v1/models", [], HttpMethod.Get);
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        using var second = await SendAsync(app, "/v1/models", [], HttpMethod.Get);
        release.SetResult();
        using var firstResponse = await first;

        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Equal(HttpStatusCode.OK, firstResponse.StatusCode);
    }

    private static async Task<HttpResponseMessage> SendAsync(HarmonyProxyApplication app, string path, (string Name, string Value)[] headers, HttpMethod? method = null)
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Post, path);
        if (request.Method == HttpMethod.Post)
        {
            request.Content = new StringContent("""{"stream":true,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json");
        }

        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await app.CreateClient().SendAsync(request);
    }
}
