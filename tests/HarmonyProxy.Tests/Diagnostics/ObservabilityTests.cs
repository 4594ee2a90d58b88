using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using HarmonyProxy.Tests.Infrastructure;
using RichardSzalay.MockHttp;
using Serilog.Events;

namespace HarmonyProxy.Tests.Diagnostics;

public sealed partial class ObservabilityTests
{
    [Fact]
    public async Task Metrics_CountRequestsToolCallsParserEventsAndTokens()
    {
        await using var app = new HarmonyProxyApplication();
        app.Upstream.RespondWithStream(LlamaChunks.RawStream(Samples.ToolCall));

        using var response = await app.CreateClient().PostAsync("/v1/chat/completions", Json("""{"stream":true,"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"read_file"}}]}"""));
        await response.Content.ReadAsStringAsync();
        using var bad = await app.CreateClient().PostAsync("/v1/chat/completions", Json("{}"));

        Assert.Equal(1, await app.MetricAsync("""harmony_proxy_requests_total{endpoint="chat_completions",stream="true",outcome="ok"}"""));
        Assert.Equal(1, await app.MetricAsync("""harmony_proxy_requests_total{endpoint="chat_completions",stream="unknown",outcome="client_error"}"""));
        Assert.Equal(1, await app.MetricAsync("harmony_proxy_tool_calls_total"));
        Assert.Equal(1, await app.MetricAsync("""harmony_proxy_parser_events_total{event="tool_call"}"""));
        Assert.Equal(1, await app.MetricAsync("""harmony_proxy_parser_events_total{event="leaked_tags_cleaned"}"""));
        Assert.True(await app.MetricAsync("""harmony_proxy_parser_events_total{event="reasoning_chunk"}""") > 0);
        Assert.Equal(139, await app.MetricAsync("""harmony_proxy_tokens_total{kind="prompt"}"""));
        Assert.Equal(41, await app.MetricAsync("""harmony_proxy_tokens_total{kind="completion"}"""));
        Assert.Equal(1, await app.MetricAsync("""harmony_proxy_time_to_first_token_seconds_count{stream="true"}"""));
        Assert.Equal(0, await app.MetricAsync("harmony_proxy_streams_in_flight"));
    }

    [Fact]
    public async Task Metrics_CountRetriesFallbacksAndStrippedForm()
    {
        await using var app = new HarmonyProxyApplication();
        var calls = 0;
        var body = LlamaChunks.Sse([LlamaChunks.Role(), LlamaChunks.Content("analysisThinking.assistantfinalHi"), LlamaChunks.Finish("stop"), LlamaChunks.Done]);
        app.Upstream.When(HttpMethod.Post, HarmonyProxyApplication.UpstreamBase + "/chat/completions").Respond(_ =>
            ++calls == 1
                ? new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
                : new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "text/event-stream") });

        using var response = await app.CreateClient().PostAsync("/v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}]}"""));
        await response.Content.ReadAsStringAsync();

        Assert.Equal(1, await app.MetricAsync("""harmony_proxy_upstream_retries_total{reason="status_503"}"""));
        Assert.Equal(1, await app.MetricAsync("""harmony_proxy_parser_events_total{event="stripped_form"}"""));
    }

    [Fact]
    public async Task Metrics_TheProcessAllocations_GrowAsTheProxyWorks()
    {
        await using var app = new HarmonyProxyApplication();

        var first = await app.MetricAsync("harmony_proxy_allocated_bytes_total");
        var array = new byte[1 << 20];
        var second = await app.MetricAsync("harmony_proxy_allocated_bytes_total");

        Assert.True(first > 0, "allocated bytes are reported");
        Assert.True(second - first >= array.Length, $"{second - first} bytes between two scrapes that allocated 1 MiB between them");
    }

    [Fact]
    public async Task Metrics_CanBeSwitchedOff()
    {
        await using var app = new HarmonyProxyApplication(new() { ["HarmonyProxy:Metrics:Enabled"] = "false" });

        using var response = await app.CreateClient().GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData("props", HttpStatusCode.OK, HttpStatusCode.OK, "ready")]
    [InlineData("props", HttpStatusCode.Unauthorized, HttpStatusCode.OK, "ready")]
    [InlineData("props", HttpStatusCode.Forbidden, HttpStatusCode.OK, "ready")]
    [InlineData("props", HttpStatusCode.InternalServerError, HttpStatusCode.ServiceUnavailable, "not_ready")]
    [InlineData("props", HttpStatusCode.ServiceUnavailable, HttpStatusCode.ServiceUnavailable, "not_ready")]
    [InlineData("models", HttpStatusCode.OK, HttpStatusCode.OK, "ready")]
    [InlineData("models", HttpStatusCode.Unauthorized, HttpStatusCode.OK, "ready")]
    [InlineData("models", HttpStatusCode.Forbidden, HttpStatusCode.OK, "ready")]
    [InlineData("models", HttpStatusCode.InternalServerError, HttpStatusCode.ServiceUnavailable, "not_ready")]
    public async Task Readyz_ReflectsTheUpstream(string probe, HttpStatusCode upstreamStatus, HttpStatusCode expected, string status)
    {
        await using var app = new HarmonyProxyApplication(new() { ["HarmonyProxy:Upstream:ReadinessProbe"] = probe });
        app.Upstream.When(HttpMethod.Get, HarmonyProxyApplication.UpstreamBase + "/models").Respond(upstreamStatus);
        app.Upstream.RespondToReadiness(upstreamStatus);

        using var response = await app.CreateClient().GetAsync("/readyz");

        Assert.Equal(expected, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(status, body["status"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(body["checks"]!["upstream"]!["description"]!.GetValue<string>()));
        Assert.Equal(expected == HttpStatusCode.OK ? 1 : 0, await app.MetricAsync("harmony_proxy_upstream_ready"));
    }

    [Fact]
    public async Task Readyz_ModelsProbe_ModelsMissing_FallsBackToHealth()
    {
        await using var app = new HarmonyProxyApplication(new() { ["HarmonyProxy:Upstream:ReadinessProbe"] = "models" });
        app.Upstream.When(HttpMethod.Get, HarmonyProxyApplication.UpstreamBase + "/models").Respond(HttpStatusCode.NotFound);
        app.Upstream.When(HttpMethod.Get, MockUpstream.HealthUrl).Respond("application/json", """{"status":"ok"}""");

        using var response = await app.CreateClient().GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("/health", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readyz_UpstreamDown_Is503AndSaysWhy()
    {
        await using var app = new HarmonyProxyApplication(new() { ["HarmonyProxy:Upstream:MaxRetries"] = "0" });
        app.Upstream.When("*").Throw(new HttpRequestException("Connection refused"));

        using var response = await app.CreateClient().GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("Connection refused", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readyz_CircuitBreakerOpen_IsNotReady()
    {
        await using var app = new HarmonyProxyApplication(new()
        {
            ["HarmonyProxy:Upstream:MaxRetries"] = "0",
            ["HarmonyProxy:Upstream:CircuitBreakerMinimumThroughput"] = "2",
            ["HarmonyProxy:Upstream:ReadinessCacheSeconds"] = "0",
        });
        app.Upstream.When(HttpMethod.Post, HarmonyProxyApplication.UpstreamBase + "/chat/completions").Respond(HttpStatusCode.BadGateway);
        app.Upstream.When(HttpMethod.Get, HarmonyProxyApplication.UpstreamBase + "/models").Respond("application/json", "{}");
        var client = app.CreateClient();
        for (var i = 0; i < 2; i++)
        {
            using var failing = await client.PostAsync("/v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}]}"""));
        }

        using var response = await client.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("circuit breaker", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readyz_IsCachedBetweenProbes()
    {
        await using var app = new HarmonyProxyApplication(new() { ["HarmonyProxy:Upstream:ReadinessProbe"] = "models" });
        var probes = 0;
        app.Upstream.When(HttpMethod.Get, HarmonyProxyApplication.UpstreamBase + "/models").Respond(_ =>
        {
            probes++;
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("{}") };
        });
        var client = app.CreateClient();

        for (var i = 0; i < 5; i++)
        {
            using var response = await client.GetAsync("/readyz");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(1, probes);
    }

    [Fact]
    public async Task Healthz_IsLivenessWithoutUpstream()
    {
        await using var app = new HarmonyProxyApplication();
        app.Upstream.When("*").Throw(new HttpRequestException("must not be called"));

        using var response = await app.CreateClient().GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("alive", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["status"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("client-id-42", "client-id-42")]
    [InlineData("has spaces and <tags>", null)]
    [InlineData(null, null)]
    public async Task RequestId_IsTakenOrGenerated_AndReturned(string? sent, string? expected)
    {
        await using var app = new HarmonyProxyApplication();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        if (sent is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Request-Id", sent);
        }

        using var response = await app.CreateClient().SendAsync(request);

        var returned = response.Headers.GetValues("X-Request-Id").Single();
        if (expected is null)
        {
            Assert.Matches("^[0-9a-f]{32}$", returned);
        }
        else
        {
            Assert.Equal(expected, returned);
        }
    }

    [Fact]
    public async Task CompletionSummary_HasTheFields_AndNoPromptOrAnswerText()
    {
        // The default level of the shipped appsettings.json.
        await using var app = new HarmonyProxyApplication(new() { ["Serilog:MinimumLevel:Default"] = "Information" });
        app.Upstream.RespondWithStream(LlamaChunks.RawStream("<|channel|>analysis<|message|>SECRET-REASONING<|end|><|start|>assistant<|channel|>final<|message|>SECRET-ANSWER"));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = Json("""{"model":"gpt-oss-20b","stream":true,"messages":[{"role":"user","content":"SECRET-PROMPT"}]}"""),
        };
        request.Headers.Add("X-Request-Id", "summary-1");

        using var response = await app.CreateClient().SendAsync(request);
        Assert.Contains("SECRET-ANSWER", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.True(app.LogEvents.Events.Count > 0, "no events");
        var summary = Assert.Single(app.LogEvents.Events, e => e.Properties.TryGetValue("EventId", out var id) && id.ToString().Contains("CompletionFinished", StringComparison.Ordinal));
        Assert.Equal(LogEventLevel.Information, summary.Level);
        foreach (var field in new[] { "RequestId", "Model", "Stream", "Status", "Outcome", "UpstreamAttempts", "TimeToFirstTokenMs", "DurationMs", "ContentChunks", "ReasoningChunks", "ToolCalls", "FallbackUsed", "FinishReason" })
        {
            Assert.True(summary.Properties.ContainsKey(field), field);
        }

        Assert.Equal("\"summary-1\"", summary.Properties["RequestId"].ToString());
        Assert.Equal("\"ok\"", summary.Properties["Outcome"].ToString());
        var logged = app.LogEvents.AllText();
        Assert.DoesNotContain("SECRET-PROMPT", logged, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET-ANSWER", logged, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET-REASONING", logged, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dashboard_QueriesOnlyNameMetricsThatExist()
    {
        await using var app = new HarmonyProxyApplication();
        await app.CreateClient().GetAsync("/healthz");
        var exposed = MetricName().Matches(await app.CreateClient().GetStringAsync("/metrics"))
            .Select(match => match.Value).ToHashSet();
        var dashboard = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), "deploy", "grafana", "harmony-proxy-dashboard.json")))!;

        var expressions = dashboard["panels"]!.AsArray()
            .SelectMany(panel => panel!["targets"]?.AsArray() ?? [])
            .Select(target => target!["expr"]!.GetValue<string>())
            .ToList();

        Assert.NotEmpty(expressions);
        foreach (var name in expressions.SelectMany(expr => MetricName().Matches(expr).Select(match => match.Value)))
        {
            var family = Regex.Replace(name, "_(bucket|sum|count)$", string.Empty);
            Assert.True(exposed.Contains(name) || exposed.Contains(family), $"{name} is not exposed by /metrics");
        }
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "HarmonyProxy.sln")))
        {
            directory = directory.Parent;
        }

        return directory!.FullName;
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    [GeneratedRegex("(harmony_proxy|http_request)[a-z_]+")]
    private static partial Regex MetricName();
}
