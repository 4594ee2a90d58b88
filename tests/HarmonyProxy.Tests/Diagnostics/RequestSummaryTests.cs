using System.Net;
using System.Text;
using HarmonyProxy.Tests.Infrastructure;
using Serilog.Events;

namespace HarmonyProxy.Tests.Diagnostics;

/// <summary>Every request leaves one summary log line.</summary>
public sealed class RequestSummaryTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData("GET", "/v1/models", "/v1/models", 200, LogEventLevel.Information)]
    [InlineData("POST", "/tokenize", "/tokenize", 200, LogEventLevel.Information)]
    [InlineData("GET", "/healthz", "/healthz", 200, LogEventLevel.Debug)]
    [InlineData("GET", "/readyz", "/readyz", 200, LogEventLevel.Debug)]
    [InlineData("GET", "/metrics", "/metrics", 200, LogEventLevel.Debug)]
    [InlineData("GET", "/v2/unknown", "/v2/unknown", 404, LogEventLevel.Information)]
    public async Task EveryRoute_OneRequestFinishedLine(string method, string path, string route, int status, LogEventLevel level)
    {
        await using var harness = await LoopbackHarness.StartAsync(settings: new() { ["Serilog:MinimumLevel:Default"] = "Debug" });
        var logged = harness.Proxy.LogEvents.WhenLogged("RequestFinished");

        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = new StringContent("""{"content":"hi"}""", Encoding.UTF8, "application/json");
        }

        using var response = await harness.Http.SendAsync(request);
        var line = await logged.WaitAsync(Bound);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(level, line.Level);
        Assert.Equal($"\"{route}\"", line.Properties["Route"].ToString());
        Assert.Equal(status.ToString(System.Globalization.CultureInfo.InvariantCulture), line.Properties["Status"].ToString());
        Assert.Equal($"\"{method}\"", line.Properties["Method"].ToString());
        Assert.Equal(response.Headers.GetValues("X-Request-Id").Single(), line.Properties["RequestId"].ToString().Trim('"'));
        Assert.Single(harness.Proxy.LogEvents.Named("RequestFinished"));
    }

    [Fact]
    public async Task Completion_HasItsOwnSummary_NotASecondLine()
    {
        await using var harness = await LoopbackHarness.StartAsync(settings: new() { ["Serilog:MinimumLevel:Default"] = "Information" });
        var completion = harness.Proxy.LogEvents.WhenLogged("CompletionFinished");
        var models = harness.Proxy.LogEvents.WhenLogged("RequestFinished");

        using var response = await harness.Http.PostAsync("/v1/chat/completions", new StringContent("""{"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        await completion.WaitAsync(Bound);
        using var list = await harness.Http.GetAsync("/v1/models");
        var line = await models.WaitAsync(Bound);

        Assert.Equal("\"/v1/models\"", line.Properties["Route"].ToString());
        Assert.Single(harness.Proxy.LogEvents.Named("RequestFinished"));
        Assert.Single(harness.Proxy.LogEvents.Named("CompletionFinished"));
    }

    [Fact]
    public async Task CompletionRejectedBeforeTheHandler_StillLeavesALine()
    {
        await using var harness = await LoopbackHarness.StartAsync(settings: new()
        {
            ["Serilog:MinimumLevel:Default"] = "Information",
            ["HarmonyProxy:Security:ApiKeys:0"] = "sk-team",
        });
        var logged = harness.Proxy.LogEvents.WhenLogged("RequestFinished");

        using var response = await harness.Http.PostAsync("/v1/chat/completions", new StringContent("""{"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        var line = await logged.WaitAsync(Bound);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("401", line.Properties["Status"].ToString());
        Assert.Equal("\"/v1/chat/completions\"", line.Properties["Route"].ToString());
    }
}
