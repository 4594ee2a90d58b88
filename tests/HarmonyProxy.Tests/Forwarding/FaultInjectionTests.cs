using System.Net;
using System.Net.ServerSentEvents;
using System.Text.Json.Nodes;
using HarmonyProxy.Tests.Infrastructure;
using HarmonyProxy.Upstream;
using LlamaServerSim;
using Microsoft.Extensions.DependencyInjection;

namespace HarmonyProxy.Tests.Forwarding;

/// <summary>
/// The real proxy on loopback in front of the simulator, with faults injected upstream. Limits
/// are set small so that each bound is reached quickly; the tests wait on handshakes, never on
/// sleeps.
/// </summary>
public sealed class FaultInjectionTests
{
    private const string Answer = "<|channel|>analysis<|message|>Think.<|end|><|start|>assistant<|channel|>final<|message|>All good here.";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task BurstOf503_ThenSuccess_ClientGetsTheAnswer()
    {
        await using var harness = await LoopbackHarness.StartAsync();
        harness.Simulator.Enqueue(new SimScript { FailStatus = 503 }, new SimScript { FailStatus = 503 }, new SimScript { RawText = Answer });

        var stream = await PostStreamAsync(harness);

        Assert.Equal("All good here.", stream.Content);
        Assert.Equal(3, harness.Simulator.ChatRequestCount);
    }

    [Fact]
    public async Task ResetBeforeFirstByte_IsRetried()
    {
        await using var harness = await LoopbackHarness.StartAsync();
        harness.Simulator.Enqueue(new SimScript { ResetBeforeFirstByte = true }, new SimScript { RawText = Answer });

        var stream = await PostStreamAsync(harness);

        Assert.Equal("All good here.", stream.Content);
        Assert.Equal(2, harness.Simulator.ChatRequestCount);
    }

    [Fact]
    public async Task ErrorEventBeforeVisibleOutput_IsRetried_ClientSeesOneCleanAnswer()
    {
        await using var harness = await LoopbackHarness.StartAsync();
        harness.Simulator.Enqueue(new SimScript { RawText = Answer, ErrorAfterTokens = 1 }, new SimScript { RawText = Answer });

        var stream = await PostStreamAsync(harness);

        Assert.Equal("All good here.", stream.Content);
        Assert.Equal("Think.", stream.Reasoning);
        Assert.Null(stream.Error);
        Assert.Equal(2, harness.Simulator.ChatRequestCount);
        Assert.Single(stream.Chunks, chunk => chunk["choices"]?[0]?["delta"]?["role"] is not null);
    }

    [Fact]
    public async Task ErrorEventAfterVisibleOutput_EndsWithOneErrorEventAndDone()
    {
        await using var harness = await LoopbackHarness.StartAsync();
        harness.Simulator.Enqueue(new SimScript { RawText = "<|channel|>final<|message|>One two three four five six", ErrorAfterTokens = 6 });

        var stream = await PostStreamAsync(harness);

        Assert.Equal("One two three", stream.Content);
        Assert.Contains("Failed to parse input", stream.Error!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(1, harness.Simulator.ChatRequestCount);
    }

    [Fact]
    public async Task StallMidStream_IdleWatchdogEndsWithLength_AndClosesUpstream()
    {
        await using var harness = await LoopbackHarness.StartAsync(settings: new() { ["HarmonyProxy:Upstream:ReadTimeoutSeconds"] = "0.5" });
        var upstreamClosed = WhenUpstreamClosed(harness.Simulator);
        harness.Simulator.Enqueue(new SimScript { RawText = "<|channel|>final<|message|>One two three four", StallAfterTokens = 4, StallDuration = TimeSpan.FromMinutes(5) });

        var stream = await PostStreamAsync(harness);

        Assert.Equal("length", stream.FinishReason);
        Assert.Equal("One", stream.Content);
        await upstreamClosed.WaitAsync(Bound);
    }

    [Fact]
    public async Task ReasoningLoop_NoVisibleOutputWatchdogEndsWithLength()
    {
        // Long enough for the first sentence at 100 tokens/s even on a loaded CI machine.
        await using var harness = await LoopbackHarness.StartAsync(settings: new() { ["HarmonyProxy:Upstream:NoVisibleOutputTimeoutSeconds"] = "2" });
        var upstreamClosed = WhenUpstreamClosed(harness.Simulator);
        var loop = "<|channel|>analysis<|message|>" + string.Concat(Enumerable.Repeat("We need to think again. ", 2000));
        harness.Simulator.Enqueue(new SimScript { RawText = loop, TokensPerSecond = 100 });

        var stream = await PostStreamAsync(harness);

        Assert.Equal("length", stream.FinishReason);
        Assert.Null(stream.Content);
        Assert.StartsWith("We need to think again.", stream.Reasoning, StringComparison.Ordinal);
        await upstreamClosed.WaitAsync(Bound);
    }

    [Fact]
    public async Task StallBeforeFirstToken_PastFirstByteTimeout_Is504BeforeAnyOutput()
    {
        await using var harness = await LoopbackHarness.StartAsync(settings: new()
        {
            ["HarmonyProxy:Upstream:FirstByteTimeoutSeconds"] = "0.5",
            ["HarmonyProxy:Upstream:MaxRetries"] = "0",
        });
        harness.Simulator.Enqueue(new SimScript { RawText = Answer, StallBeforeFirstToken = TimeSpan.FromMinutes(5) });

        using var response = await harness.Http.PostAsync("/v1/chat/completions", Json(stream: false));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("upstream_timeout", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task LongPromptProcessing_KeepAliveCommentsGoOutFirst()
    {
        await using var harness = await LoopbackHarness.StartAsync(settings: new() { ["HarmonyProxy:Upstream:KeepAliveSeconds"] = "0.1" });
        harness.Simulator.Enqueue(new SimScript { RawText = Answer, StallBeforeFirstToken = TimeSpan.FromSeconds(1) });

        using var response = await harness.Http.PostAsync("/v1/chat/completions", Json(stream: true));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith(": keep-alive\n\n", text, StringComparison.Ordinal);
        Assert.Equal("All good here.", ClientStream.Parse(text).Content);
    }

    [Fact]
    public async Task ClientDisconnectsMidStream_UpstreamIsCancelled()
    {
        await using var harness = await LoopbackHarness.StartAsync();
        var upstreamClosed = WhenUpstreamClosed(harness.Simulator);
        harness.Simulator.Enqueue(new SimScript { RawText = "<|channel|>final<|message|>" + string.Concat(Enumerable.Repeat("word ", 5000)), TokensPerSecond = 200 });

        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json(stream: true) })
        using (var response = await harness.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            await using var body = await response.Content.ReadAsStreamAsync();
            await using var events = SseParser.Create(body).EnumerateAsync().GetAsyncEnumerator();
            for (var i = 0; i < 3; i++)
            {
                Assert.True(await events.MoveNextAsync());
            }
        }

        await upstreamClosed.WaitAsync(Bound);
        Assert.Equal(0, harness.Simulator.OpenStreams);
    }

    [Fact]
    public async Task UpstreamDown_IsAFast502()
    {
        await using var proxy = new HarmonyProxyApplication(realUpstream: new Uri("http://127.0.0.1:9/v1"));
        using var http = new HttpClient { BaseAddress = proxy.ServerAddress };

        using var response = await http.PostAsync("/v1/chat/completions", Json(stream: true));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("upstream_unreachable", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task ConcurrencyCap_NextRequestWaits_QueueOverflowGets429()
    {
        await using var harness = await LoopbackHarness.StartAsync(settings: new()
        {
            ["HarmonyProxy:Upstream:MaxConcurrentRequests"] = "1",
            ["HarmonyProxy:Upstream:MaxQueuedRequests"] = "1",
        });
        using var release = new SemaphoreSlim(0);
        var firstStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Simulator.Enqueue(
            new SimScript { RawText = Answer, Gate = async (index, cancellation) => { firstStarted.TrySetResult(); await release.WaitAsync(cancellation); } },
            new SimScript { RawText = Answer });

        var gate = harness.Proxy.Services.GetRequiredService<BackendPool>();
        var secondWaiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.Waiting += () => secondWaiting.TrySetResult();

        var first = harness.Http.PostAsync("/v1/chat/completions", Json(stream: false));
        await firstStarted.Task.WaitAsync(Bound);
        var second = harness.Http.PostAsync("/v1/chat/completions", Json(stream: false));
        await secondWaiting.Task.WaitAsync(Bound);
        using var third = await harness.Http.PostAsync("/v1/chat/completions", Json(stream: false));

        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.NotNull(third.Headers.RetryAfter);
        Assert.False(second.IsCompleted);
        Assert.Equal(1, harness.Simulator.ChatRequestCount);

        release.Release(1000);
        using var firstResponse = await first;
        using var secondResponse = await second;
        Assert.Equal(HttpStatusCode.OK, firstResponse.StatusCode);
        Assert.Equal(HttpStatusCode.OK, secondResponse.StatusCode);
        Assert.Equal(2, harness.Simulator.ChatRequestCount);
    }

    private static Task WhenUpstreamClosed(LlamaServerSimulator simulator)
    {
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        simulator.ClientDisconnected += () => closed.TrySetResult();
        return closed.Task;
    }

    private static async Task<ClientStream> PostStreamAsync(LoopbackHarness harness)
    {
        using var response = await harness.Http.PostAsync("/v1/chat/completions", Json(stream: true));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return ClientStream.Parse(await response.Content.ReadAsStringAsync());
    }

    private static StringContent Json(bool stream) => ChatRequest.Body(stream);
}
