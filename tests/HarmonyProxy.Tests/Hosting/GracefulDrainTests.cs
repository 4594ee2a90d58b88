using System.Net;
using System.Text.Json.Nodes;
using HarmonyProxy.Tests.Infrastructure;
using LlamaServerSim;

namespace HarmonyProxy.Tests.Hosting;

/// <summary>A real proxy process and a real SIGTERM: drain, refuse, end cleanly, exit.</summary>
public sealed class GracefulDrainTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Sigterm_NotReadyAndRefusingAtOnce_OpenStreamFinishes_ThenTheProcessExits()
    {
        await using var simulator = await LlamaServerSimulator.StartAsync();
        using var release = new SemaphoreSlim(0);
        var streaming = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        simulator.Enqueue(new SimScript
        {
            RawText = "<|channel|>final<|message|>One two three four",
            Gate = async (token, cancellation) =>
            {
                if (token == 3)
                {
                    streaming.TrySetResult();
                    await release.WaitAsync(cancellation);
                }
            },
        });
        await using var proxy = await ProxyProcess.StartAsync(simulator.BaseAddress, new Dictionary<string, string> { ["HarmonyProxy__Shutdown__DrainSeconds"] = "30" }, Bound);
        using var http = new HttpClient { BaseAddress = proxy.BaseAddress };
        var open = ReadStreamAsync(http);
        await streaming.Task.WaitAsync(Bound);

        var draining = proxy.WhenLogged("DrainStarted");
        proxy.SendSigterm();
        await draining.WaitAsync(Bound);
        using var readyz = await http.GetAsync("/readyz");
        using var refused = await http.PostAsync("/v1/chat/completions", Chat(stream: false));
        release.Release(100);
        var stream = ClientStream.Parse(await open.WaitAsync(Bound));
        await proxy.Exited.WaitAsync(Bound);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, readyz.StatusCode);
        Assert.Contains("shutting down", await readyz.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Equal("shutting_down", JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["error"]!["code"]!.GetValue<string>());
        Assert.Equal("One two three four", stream.Content);
        Assert.Equal("stop", stream.FinishReason);
        Assert.True(stream.EndedWithDone);
        Assert.Equal(1, simulator.ChatRequestCount);
        Assert.Equal(0, proxy.ExitCode);
    }

    [Fact]
    public async Task Sigterm_StreamStillOpenAfterTheDrainTime_EndsWithARetryableError_AndItsUpstreamIsCancelled()
    {
        await using var simulator = await LlamaServerSimulator.StartAsync();
        var upstreamClosed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        simulator.ClientDisconnected += () => upstreamClosed.TrySetResult();
        var streaming = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        simulator.Enqueue(new SimScript
        {
            RawText = "<|channel|>final<|message|>One two three four",
            Gate = async (token, cancellation) =>
            {
                if (token == 5)
                {
                    streaming.TrySetResult();
                    await Task.Delay(Timeout.Infinite, cancellation);
                }
            },
        });
        await using var proxy = await ProxyProcess.StartAsync(simulator.BaseAddress, new Dictionary<string, string> { ["HarmonyProxy__Shutdown__DrainSeconds"] = "1" }, Bound);
        using var http = new HttpClient { BaseAddress = proxy.BaseAddress };
        var open = ReadStreamAsync(http);
        await streaming.Task.WaitAsync(Bound);

        proxy.SendSigterm();
        var stream = ClientStream.Parse(await open.WaitAsync(Bound));
        await upstreamClosed.Task.WaitAsync(Bound);
        await proxy.Exited.WaitAsync(Bound);

        // Cut by the drain: a retryable error event, not a finish that reads as done or merely long.
        Assert.Equal("One two", stream.Content);
        Assert.Null(stream.FinishReason);
        Assert.Equal(0, stream.FinishChunks);
        Assert.Equal("server_error", stream.Error!["type"]!.GetValue<string>());
        Assert.Equal("server_error", stream.Error!["code"]!.GetValue<string>());
        Assert.True(stream.EndedWithDone);
        Assert.Equal(0, proxy.ExitCode);
    }

    private static async Task<string> ReadStreamAsync(HttpClient http)
    {
        using var response = await http.PostAsync("/v1/chat/completions", Chat(stream: true));
        return await response.Content.ReadAsStringAsync();
    }

    private static StringContent Chat(bool stream) => ChatRequest.Body(stream);
}
