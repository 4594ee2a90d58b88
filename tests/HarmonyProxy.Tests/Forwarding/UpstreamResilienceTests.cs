using System.Net;
using System.Text.Json.Nodes;
using HarmonyProxy.Tests.Infrastructure;
using HarmonyProxy.Upstream;
using Polly;
using Polly.Timeout;
using RichardSzalay.MockHttp;

namespace HarmonyProxy.Tests.Forwarding;

public sealed class UpstreamResilienceTests
{
    [Theory]
    [InlineData(HttpStatusCode.BadGateway, true)]
    [InlineData(HttpStatusCode.ServiceUnavailable, true)]
    [InlineData(HttpStatusCode.GatewayTimeout, true)]
    [InlineData(HttpStatusCode.TooManyRequests, true)]
    [InlineData(HttpStatusCode.InternalServerError, false)]
    [InlineData(HttpStatusCode.BadRequest, false)]
    [InlineData(HttpStatusCode.Unauthorized, false)]
    [InlineData(HttpStatusCode.NotFound, false)]
    [InlineData(HttpStatusCode.OK, false)]
    public void IsTransient_RetriesOnlyGatewayErrorsAnd429(HttpStatusCode status, bool transient)
    {
        using var response = new HttpResponseMessage(status);

        Assert.Equal(transient, UpstreamResilience.Classify(Outcome.FromResult(response)).Kind == UpstreamErrorKind.Transient);
    }

    [Fact]
    public void IsTransient_ConnectionFailuresAndFirstByteTimeouts()
    {
        Assert.Equal(UpstreamErrorKind.Transient, UpstreamResilience.Classify(Outcome.FromException<HttpResponseMessage>(new HttpRequestException("reset"))).Kind);
        Assert.Equal(UpstreamErrorKind.Transient, UpstreamResilience.Classify(Outcome.FromException<HttpResponseMessage>(new TimeoutRejectedException())).Kind);
        Assert.Equal(UpstreamErrorKind.Deterministic, UpstreamResilience.Classify(Outcome.FromException<HttpResponseMessage>(new InvalidOperationException())).Kind);
    }

    [Fact]
    public async Task Send_503ThenSuccess_IsRetriedAndAnswered()
    {
        await using var app = new HarmonyProxyApplication();
        var calls = 0;
        var body = LlamaChunks.Sse(LlamaChunks.RawStream(Samples.AnalysisThenFinal));
        app.Upstream.When(HttpMethod.Post, HarmonyProxyApplication.UpstreamBase + "/chat/completions").Respond(_ =>
            ++calls < 3
                ? new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { Content = new StringContent("""{"error":{"message":"Loading model","type":"unavailable_error","code":503}}""") }
                : new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, System.Text.Encoding.UTF8, "text/event-stream") });

        using var response = await app.CreateClient().PostAsync("/v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, calls);
        Assert.Equal("Hello there!", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["choices"]![0]!["message"]!["content"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest, 400)]
    [InlineData(HttpStatusCode.InternalServerError, 502)]
    public async Task Send_NonTransientStatus_IsNotRetried(HttpStatusCode upstreamStatus, int clientStatus)
    {
        await using var app = new HarmonyProxyApplication();
        var calls = 0;
        app.Upstream.When(HttpMethod.Post, HarmonyProxyApplication.UpstreamBase + "/chat/completions").Respond(_ =>
        {
            calls++;
            return new HttpResponseMessage(upstreamStatus) { Content = new StringContent("""{"error":{"message":"no","type":"x","code":1}}""") };
        });

        using var response = await app.CreateClient().PostAsync("/v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(clientStatus, (int)response.StatusCode);
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task Send_429WithRetryAfter_IsRetried()
    {
        await using var app = new HarmonyProxyApplication();
        var calls = 0;
        var body = LlamaChunks.Sse(LlamaChunks.RawStream(Samples.AnalysisThenFinal));
        app.Upstream.When(HttpMethod.Post, HarmonyProxyApplication.UpstreamBase + "/chat/completions").Respond(_ =>
        {
            if (++calls == 1)
            {
                var limited = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
                limited.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.Zero);
                return limited;
            }

            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, System.Text.Encoding.UTF8, "text/event-stream") };
        });

        using var response = await app.CreateClient().PostAsync("/v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task CircuitBreaker_OpensAfterRepeatedFailures_AndFailsFastWith503()
    {
        await using var app = new HarmonyProxyApplication(new()
        {
            ["HarmonyProxy:Upstream:MaxRetries"] = "0",
            ["HarmonyProxy:Upstream:CircuitBreakerMinimumThroughput"] = "3",
            ["HarmonyProxy:Upstream:CircuitBreakerFailureRatio"] = "0.5",
        });
        var calls = 0;
        app.Upstream.When(HttpMethod.Post, HarmonyProxyApplication.UpstreamBase + "/chat/completions").Respond(_ =>
        {
            calls++;
            return new HttpResponseMessage(HttpStatusCode.BadGateway) { Content = new StringContent("bad gateway") };
        });
        var client = app.CreateClient();

        for (var i = 0; i < 3; i++)
        {
            using var failing = await client.PostAsync("/v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}]}"""));
            Assert.Equal(HttpStatusCode.BadGateway, failing.StatusCode);
        }

        using var response = await client.PostAsync("/v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Contains("circuit_open", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(3, calls);
    }

    [Theory]
    [InlineData(true, "could not be reached")]
    [InlineData(false, "kept failing (HTTP 503)")]
    public async Task OpenBreaker_SaysWhyItOpened(bool unreachable, string why)
    {
        await using var app = new HarmonyProxyApplication(new()
        {
            ["HarmonyProxy:Upstream:MaxRetries"] = "0",
            ["HarmonyProxy:Upstream:CircuitBreakerMinimumThroughput"] = "2",
        });
        var chat = app.Upstream.When(HttpMethod.Post, HarmonyProxyApplication.UpstreamBase + "/chat/completions");
        if (unreachable)
        {
            chat.Throw(new HttpRequestException("Connection refused"));
        }
        else
        {
            chat.Respond(HttpStatusCode.ServiceUnavailable, "application/json", """{"error":{"message":"busy","type":"unavailable_error","code":503}}""");
        }

        var client = app.CreateClient();
        for (var i = 0; i < 2; i++)
        {
            using var failing = await client.PostAsync("/v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}]}"""));
        }

        using var response = await client.PostAsync("/v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}]}"""));
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("circuit_open", error["code"]!.GetValue<string>());
        Assert.Contains(why, error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.NotNull(response.Headers.RetryAfter);
    }

    [Fact]
    public async Task PerRequestErrors_FromAHealthyUpstream_NeverOpenTheBreaker()
    {
        await using var app = new HarmonyProxyApplication(new() { ["HarmonyProxy:Upstream:CircuitBreakerMinimumThroughput"] = "2" });
        var calls = 0;
        var healthy = LlamaChunks.Sse(LlamaChunks.RawStream(Samples.AnalysisThenFinal));
        app.Upstream.When(HttpMethod.Post, HarmonyProxyApplication.UpstreamBase + "/chat/completions").Respond(_ => ++calls <= 12
            ? new HttpResponseMessage(calls % 2 == 0 ? HttpStatusCode.InternalServerError : HttpStatusCode.BadRequest) { Content = new StringContent("""{"error":{"message":"Unsupported tool type","type":"server_error","code":500}}""") }
            : new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(healthy, System.Text.Encoding.UTF8, "text/event-stream") });
        var client = app.CreateClient();
        for (var i = 0; i < 12; i++)
        {
            using var failing = await client.PostAsync("/v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}]}"""));
            Assert.NotEqual(HttpStatusCode.ServiceUnavailable, failing.StatusCode);
        }

        using var response = await client.PostAsync("/v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(13, calls);
    }

    private static StringContent Json(string body) => new(body, System.Text.Encoding.UTF8, "application/json");
}
