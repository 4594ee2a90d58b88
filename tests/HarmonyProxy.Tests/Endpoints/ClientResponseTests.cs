using System.Text;
using HarmonyProxy.Completions;
using HarmonyProxy.Endpoints;
using HarmonyProxy.Tests.Infrastructure;
using HarmonyProxy.Upstream;
using HarmonyProxy.Wire;
using Microsoft.Extensions.Time.Testing;

namespace HarmonyProxy.Tests.Endpoints;

/// <summary>
/// The client's response owns "has anything been sent": an error and a keep-alive decide it under
/// one lock, so a keep-alive never starts a stream an error already answered, and an error after a
/// keep-alive is an event. Time moves only by <see cref="FakeTimeProvider"/>.
/// </summary>
public sealed class ClientResponseTests
{
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);
    private static readonly UpstreamFailure Failure = UpstreamFailure.Unreachable(".");

    private readonly FakeTimeProvider _time = new();
    private readonly InMemoryResponse _client = new();

    [Fact]
    public async Task ErrorBeforeAnythingWasSent_IsAnHttpError_AndNoKeepAliveFollowsIt()
    {
        await using var response = Open(stream: true);

        Assert.True(await response.FailAsync(Failure));
        _time.Advance(KeepAlive * 3);

        Assert.Equal(502, _client.Context.Response.StatusCode);
        Assert.Equal("application/json", _client.Context.Response.ContentType);
        Assert.Equal("upstream_unreachable", System.Text.Json.JsonDocument.Parse(_client.Body).RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task ErrorAfterAKeepAlive_IsOneErrorEvent_ThenDone()
    {
        await using var response = Open(stream: true);

        _time.Advance(KeepAlive);
        Assert.True(response.Sent);
        Assert.False(await response.FailAsync(Failure));

        Assert.Equal(200, _client.Context.Response.StatusCode);
        Assert.Equal("text/event-stream", _client.Context.Response.ContentType);
        var events = _client.Body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(": keep-alive", events[0]);
        Assert.Single(events, e => e.StartsWith("data: {\"error\":", StringComparison.Ordinal));
        Assert.StartsWith("data: {\"error\":", events[^2], StringComparison.Ordinal);
        Assert.Equal("data: [DONE]", events[^1]);
    }

    [Fact]
    public async Task Stream_RestartsOnlyBeforeOutput_AndKeepsItsTranslator()
    {
        await using var response = Open(stream: true);
        var translator = response.Translator;

        Assert.True(response.CanRestart);
        response.Restart();
        Assert.Same(translator, response.Translator);

        translator.ProcessEvent(Encoding.UTF8.GetBytes(Infrastructure.LlamaChunks.Content("<|channel|>final<|message|>Hi")));
        Assert.False(response.CanRestart);
        Assert.True(response.HasOutput);
    }

    [Fact]
    public async Task Json_AlwaysRestarts_WithANewBody_AndWritesItOnceAtTheEnd()
    {
        await using var response = Open(stream: false);
        response.Translator.ProcessEvent(Encoding.UTF8.GetBytes(Infrastructure.LlamaChunks.Content("<|channel|>final<|message|>first try")));
        Assert.True(response.CanRestart);
        var first = response.Translator;

        response.Restart();
        Assert.NotSame(first, response.Translator);
        response.Translator.ProcessEvent(Encoding.UTF8.GetBytes(Infrastructure.LlamaChunks.Content("<|channel|>final<|message|>second")));
        response.Translator.Complete();
        _time.Advance(KeepAlive * 2);
        Assert.False(response.Sent);
        await response.CompleteAsync();

        var message = System.Text.Json.JsonDocument.Parse(_client.Body).RootElement.GetProperty("choices")[0].GetProperty("message");
        Assert.Equal("second", message.GetProperty("content").GetString());
    }

    private ClientResponse Open(bool stream)
    {
        var response = new ClientResponse(_client.Context, new ChatCompletionWire(ReasoningFields.ReasoningContent), stream, streamUsage: false, _time, KeepAlive);
        response.Open((sink, usage) => new CompletionTranslator(sink, OutputOptions.Default, usage));
        return response;
    }
}
