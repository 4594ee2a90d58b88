using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using HarmonyProxy.Tests.Infrastructure;

namespace HarmonyProxy.Tests.Endpoints;

/// <summary>llama-server's other routes through the proxy, over loopback in front of the simulator.</summary>
public sealed class PassThroughTests
{
    [Theory]
    [InlineData("/v1/embeddings", """{"input":"hello","model":"gpt-oss-20b"}""", "data")]
    [InlineData("/embeddings", """{"input":"hello"}""", "data")]
    [InlineData("/v1/rerank", """{"query":"q","documents":["a"]}""", "results")]
    [InlineData("/rerank", """{"query":"q","documents":["a"]}""", "results")]
    [InlineData("/tokenize", """{"content":"Hello world"}""", "tokens")]
    [InlineData("/detokenize", """{"tokens":[13225,2375]}""", "content")]
    [InlineData("/v1/completions", """{"prompt":"Once","max_tokens":4}""", "choices")]
    public async Task Post_IsPassedThrough(string route, string body, string field)
    {
        await using var harness = await LoopbackHarness.StartAsync();

        using var response = await harness.Http.PostAsync(route, new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotNull(JsonNode.Parse(await response.Content.ReadAsStringAsync())![field]);
        var (path, received) = Assert.Single(harness.Simulator.OtherRequests);
        Assert.EndsWith(route.Replace("/v1", string.Empty, StringComparison.Ordinal), path, StringComparison.Ordinal);
        Assert.Equal(body, received);
    }

    [Fact]
    public async Task StreamedTextCompletion_StaysAStream()
    {
        await using var harness = await LoopbackHarness.StartAsync();

        using var response = await harness.Http.PostAsync("/v1/completions", new StringContent("""{"prompt":"Once","stream":true}""", Encoding.UTF8, "application/json"));
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("data: [DONE]", events[^1]);
        Assert.Equal("Once upon a time", string.Concat(events[..^1].Select(e => JsonNode.Parse(e["data: ".Length..])!["choices"]![0]!["text"]!.GetValue<string>())));
    }

    [Theory]
    [InlineData("/props", "total_slots")]
    [InlineData("/health", "status")]
    public async Task Get_IsPassedThrough(string route, string field)
    {
        await using var harness = await LoopbackHarness.StartAsync();

        using var response = await harness.Http.GetAsync(route);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotNull(JsonNode.Parse(await response.Content.ReadAsStringAsync())![field]);
    }

    [Fact]
    public async Task Slots_IsNeverPassedThrough()
    {
        await using var harness = await LoopbackHarness.StartAsync();

        using var response = await harness.Http.GetAsync("/slots");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain("secret", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithClientKeys_PassThroughRoutesNeedAKey_HealthStaysOpen()
    {
        await using var harness = await LoopbackHarness.StartAsync(settings: new() { ["HarmonyProxy:Security:ApiKeys:0"] = "sk-team" });

        using var embeddings = await harness.Http.PostAsync("/v1/embeddings", new StringContent("""{"input":"x"}""", Encoding.UTF8, "application/json"));
        using var tokenize = await harness.Http.PostAsync("/tokenize", new StringContent("""{"content":"x"}""", Encoding.UTF8, "application/json"));
        using var props = await harness.Http.GetAsync("/props");
        using var health = await harness.Http.GetAsync("/health");

        Assert.Equal(HttpStatusCode.Unauthorized, embeddings.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, tokenize.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, props.StatusCode);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Empty(harness.Simulator.OtherRequests);
    }

    [Fact]
    public async Task UpstreamLoading_IsAnOpenAIShaped503()
    {
        await using var harness = await LoopbackHarness.StartAsync(settings: new() { ["HarmonyProxy:Upstream:MaxRetries"] = "0" });
        harness.Simulator.Options = harness.Simulator.Options with { Ready = false };

        using var response = await harness.Http.PostAsync("/v1/embeddings", new StringContent("""{"input":"x"}""", Encoding.UTF8, "application/json"));
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("Loading model", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
