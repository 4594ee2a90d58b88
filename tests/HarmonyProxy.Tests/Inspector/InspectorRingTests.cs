using HarmonyProxy.Completions;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.Inspector;
using HarmonyProxy.Security;
using HarmonyProxy.Tests.Infrastructure;
using HarmonyProxy.Upstream;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace HarmonyProxy.Tests.Inspector;

/// <summary>The inspector's ring (bounded, newest first), its bounded bodies, and what it never shows.</summary>
public sealed class InspectorRingTests
{
    [Fact]
    public void TheRing_KeepsTheNewest_UpToItsLimit()
    {
        var ring = Ring(maxRequests: 3);

        foreach (var id in (string[])["a", "b", "c", "d", "e"])
        {
            ring.Begin(id, "POST", "/v1/chat/completions");
        }

        Assert.Equal(["e", "d", "c"], ring.Recent().Select(trace => trace.Id));
        Assert.Null(ring.Find("a"));
        Assert.NotNull(ring.Find("c"));
    }

    [Fact]
    public void ARequestOutOfTheRing_KeepsNothingMore()
    {
        var ring = Ring(maxRequests: 1);
        var first = ring.Begin("first", "POST", "/v1/chat/completions");
        first.UpstreamText(TrafficPart.Content, "kept");

        ring.Begin("second", "POST", "/v1/chat/completions");
        first.UpstreamText(TrafficPart.Content, " not kept");

        Assert.Equal("kept", first.Snapshot(Redactor(), withBodies: true).UpstreamOutput!.Text);
    }

    [Theory]
    [InlineData("none", "text", null, "Tool call: read_file\n```json\n{\"path\":\"a\"}\n```\n")]
    [InlineData("think_tags", "drop", null, "<think>\nNeed the file.\n</think>\n\n")]
    [InlineData("reasoning_content", "text", "Need the file.", "Tool call: read_file\n```json\n{\"path\":\"a\"}\n```\n")]
    public void WhatTheClientWasGiven_IsWhatTheOutputOptionsLetThrough(string reasoning, string toolCalls, string? reasoningShown, string contentShown)
    {
        var trace = Ring(maxRequests: 1).Begin("r", "POST", "/v1/chat/completions");
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using var writer = new HarmonyProxy.Wire.SseChunkWriter(buffer);
        var translator = new CompletionTranslator(writer, new OutputOptions(OutputOptions.TryParseReasoning(reasoning, out var shown) ? shown : default, OutputOptions.TryParseToolCalls(toolCalls, out var calls) ? calls : default), passUsage: false) { Recorder = trace };

        HarmonyProxy.Tests.Completions.TranslatorHarness.Relay(
            LlamaChunks.RawStream("<|channel|>analysis<|message|>Need the file.<|end|><|start|>assistant<|channel|>commentary to=functions.read_file <|constrain|>json<|message|>{\"path\":\"a\"}<|call|>"),
            translator);
        var received = trace.Snapshot(Redactor(), withBodies: true).Received!;

        Assert.Equal(reasoningShown ?? string.Empty, received.Reasoning.Text);
        Assert.Equal(contentShown, received.Content.Text);
        Assert.Empty(received.ToolCalls);
    }

    [Fact]
    public void AReusedRequestId_KeepsTheNewerRequest()
    {
        var ring = Ring(maxRequests: 3);

        ring.Begin("same", "POST", "/v1/responses");
        ring.Begin("other", "POST", "/v1/messages");
        var newer = ring.Begin("same", "POST", "/v1/chat/completions");

        Assert.Equal(["same", "other"], ring.Recent().Select(trace => trace.Id));
        Assert.Same(newer, ring.Find("same"));
    }

    [Fact]
    public void ABody_IsCutAtItsLimit_WithANote()
    {
        var ring = Ring(maxRequests: 1, maxBodyBytes: 1024);
        var trace = ring.Begin("r", "POST", "/v1/chat/completions");

        trace.ClientRequest(new byte[600]);
        trace.ClientRequest(new byte[600]);
        trace.UpstreamText(TrafficPart.Reasoning, "Think.");
        trace.UpstreamText(TrafficPart.Content, "Hi");
        trace.UpstreamText(TrafficPart.ToolCall, "{\"p\":1}", "read_file");
        trace.ClientText(TrafficPart.ToolCall, default, "read_file");
        trace.ClientText(TrafficPart.ToolCall, "{\"p\":");
        trace.ClientText(TrafficPart.ToolCall, "1}");
        trace.Finished(new CompletionResult { RequestId = "r", Endpoint = "chat_completions", Status = 200 });
        var snapshot = trace.Snapshot(Redactor(), withBodies: true);

        Assert.True(snapshot.ClientRequest!.Cut);
        Assert.Equal(1200, snapshot.ClientRequest.Length);
        Assert.Equal(1024, snapshot.ClientRequest.Text.Length);
        Assert.False(snapshot.UpstreamOutput!.Cut);
        Assert.Equal("[reasoning_content] Think.\n[content] Hi\n[tool_call read_file] {\"p\":1}", snapshot.UpstreamOutput.Text);
        var call = Assert.Single(snapshot.Received!.ToolCalls);
        Assert.Equal(("read_file", "{\"p\":1}"), (call.Name, call.Arguments.Text));
        Assert.True(snapshot.Done);
        Assert.Equal(200, snapshot.Status);
    }

    [Theory]
    [InlineData("the upstream key sk-upstream-0123456789 leaked", "the upstream key [redacted] leaked")]
    [InlineData("client-key-alpha was in the prompt", "[redacted] was in the prompt")]
    [InlineData("curl -H 'Authorization: Bearer abcdefghijklmnop'", "curl -H 'Authorization: Bearer [redacted]'")]
    [InlineData("an OpenAI key sk-proj-ABCDEFGHIJKL in a file", "an OpenAI key [redacted] in a file")]
    [InlineData("inspector-token-xyz", "[redacted]")]
    [InlineData("nothing secret here", "nothing secret here")]
    public void Secrets_AreNeverShown(string text, string shown)
    {
        Assert.Equal(shown, Redactor().Redact(text));
    }

    private static InspectorRing Ring(int maxRequests, int maxBodyBytes = 4096) =>
        new(Options.Create(new InspectorOptions { MaxRequests = maxRequests, MaxBodyBytes = maxBodyBytes }), new FakeTimeProvider());

    private static Redactor Redactor()
    {
        var upstream = Options.Create(new UpstreamOptions { ApiKey = "sk-upstream-0123456789" });
        return new Redactor(
            upstream,
            new UpstreamCredentials(upstream),
            Options.Create(new SecurityOptions { ApiKeys = ["client-key-alpha"], MetricsBearerToken = "metrics-token-1" }),
            Options.Create(new InspectorOptions { Token = "inspector-token-xyz" }));
    }
}
