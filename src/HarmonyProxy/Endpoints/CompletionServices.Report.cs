using System.Diagnostics;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.Harmony;
using HarmonyProxy.OpenAi;
using HarmonyProxy.Requests;

namespace HarmonyProxy.Endpoints;

/// <summary>Step 10: a completion's summary, and the one place it becomes metrics, the summary line, the request feature and the trace.</summary>
internal sealed partial class CompletionServices
{
    /// <summary>The request's one summary, from the run and what the translator counted.</summary>
    private static CompletionSummary Summarize(HttpContext context, string endpoint, PreparedRequest prepared, CompletionRun run, long started)
    {
        var result = run.Result;
        return new CompletionSummary
        {
            RequestId = context.TraceIdentifier,
            Endpoint = endpoint,
            Model = prepared.Model,
            Stream = prepared.ClientStreams,
            Status = context.Response.StatusCode,
            Outcome = run.Outcome,
            Attempts = run.Attempts,
            Recovery = run.Recovery,
            TimeToFirstToken = run.TimeToFirstToken,
            DurationSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds,
            ContentChunks = result?.ContentChunks ?? 0,
            ReasoningChunks = result?.ReasoningChunks ?? 0,
            ToolCalls = result?.ToolCallCount ?? 0,
            DroppedToolCalls = result?.DroppedToolCalls ?? 0,
            FallbackUsed = result?.FallbackUsed ?? false,
            FinishReason = result?.FinishReason?.Name,
            ParseFlags = result?.ParseFlags ?? HarmonyParseFlags.None,
            Tokens = result is not null && LlamaServerUsage.TryRead(result.Usage.Span, out var prompt, out var completion) ? (prompt, completion) : null,
        };
    }

    /// <summary>The one place a summary becomes metrics, the summary line, the request feature and trace attributes.</summary>
    private void Report(HttpContext context, CompletionSummary summary)
    {
        Record(summary);
        context.Features.Set(new CompletionSummaryFeature(summary.Outcome.Name(), summary.Attempts, summary.Recovery));
        RecordTelemetry(context, summary);
        if (Logger.IsEnabled(LogLevel.Information))
        {
            Log.CompletionFinished(Logger, summary.RequestId, summary.Model, summary.Stream, summary.Status, summary.Outcome.Name(), summary.Attempts, summary.Recovery,
                summary.TimeToFirstToken is { } ttft ? Math.Round(ttft * 1000) : null, Math.Round(summary.DurationSeconds * 1000),
                summary.ContentChunks, summary.ReasoningChunks, summary.ToolCalls, summary.FallbackUsed, summary.FinishReason, summary.ParseFlags.ToString());
        }
    }

    /// <summary>Every per-request metric, once, after the response ended (never in the token loop).</summary>
    private void Record(CompletionSummary summary)
    {
        var metrics = Metrics;
        metrics.Requests.WithLabels(summary.Endpoint, summary.StreamLabel, summary.Outcome.MetricLabel()).Inc();
        metrics.RequestDuration.WithLabels(summary.Endpoint, summary.StreamLabel).Observe(summary.DurationSeconds);
        if (summary.TimeToFirstToken is { } ttft)
        {
            metrics.TimeToFirstToken.WithLabels(summary.StreamLabel).Observe(ttft);
        }

        metrics.ParserEvents.WithLabels("final_chunk").Inc(summary.ContentChunks);
        metrics.ParserEvents.WithLabels("reasoning_chunk").Inc(summary.ReasoningChunks);
        metrics.ParserEvents.WithLabels("tool_call").Inc(summary.ToolCalls);
        metrics.ToolCalls.Inc(summary.ToolCalls - summary.DroppedToolCalls);
        metrics.ToolCallsDropped.Inc(summary.DroppedToolCalls);
        if (summary.FallbackUsed)
        {
            metrics.ParserEvents.WithLabels("fallback").Inc();
        }

        if (summary.ParseFlags.HasFlag(HarmonyParseFlags.Recovered))
        {
            metrics.ParserEvents.WithLabels("malformed").Inc();
        }

        if (summary.ParseFlags.HasFlag(HarmonyParseFlags.StrippedForm))
        {
            metrics.ParserEvents.WithLabels("stripped_form").Inc();
        }

        if (summary.ParseFlags.HasFlag(HarmonyParseFlags.TagsSeen))
        {
            metrics.ParserEvents.WithLabels("leaked_tags_cleaned").Inc();
        }

        if (summary.Tokens is var (prompt, completion))
        {
            metrics.Tokens.WithLabels("prompt").Inc(prompt);
            metrics.Tokens.WithLabels("completion").Inc(completion);
        }
    }

    /// <summary>GenAI attributes on the request's span and the GenAI histograms, when OpenTelemetry listens.</summary>
    private static void RecordTelemetry(HttpContext context, CompletionSummary summary)
    {
        if (!ProxyTelemetry.Tracing)
        {
            return;
        }

        if (summary.TimeToFirstToken is { } ttft)
        {
            ProxyTelemetry.TimeToFirstToken.Record(ttft, new KeyValuePair<string, object?>("gen_ai.operation.name", "chat"));
        }

        if (summary.Tokens is var (input, output))
        {
            ProxyTelemetry.TokenUsage.Record(input, new KeyValuePair<string, object?>("gen_ai.token.type", "input"));
            ProxyTelemetry.TokenUsage.Record(output, new KeyValuePair<string, object?>("gen_ai.token.type", "output"));
        }

        if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpActivityFeature>()?.Activity is not { IsAllDataRequested: true } span)
        {
            return;
        }

        span.SetTag("gen_ai.operation.name", "chat");
        span.SetTag("gen_ai.request.model", summary.Model);
        span.SetTag("harmony_proxy.request_id", summary.RequestId);
        span.SetTag("harmony_proxy.outcome", summary.Outcome.Name());
        span.SetTag("harmony_proxy.upstream_attempts", summary.Attempts);
        if (summary.Recovery is not null)
        {
            span.SetTag("harmony_proxy.recovery", summary.Recovery);
        }

        if (summary.FinishReason is { } finish)
        {
            span.SetTag("gen_ai.response.finish_reasons", new[] { finish });
        }

        if (summary.Tokens is var (inputTokens, outputTokens))
        {
            span.SetTag("gen_ai.usage.input_tokens", inputTokens);
            span.SetTag("gen_ai.usage.output_tokens", outputTokens);
        }

        if (summary.TimeToFirstToken is { } firstToken)
        {
            span.SetTag("gen_ai.server.time_to_first_token", firstToken);
        }
    }

    public void CountRequest(string endpoint, string stream, CompletionOutcome outcome, long started)
    {
        Metrics.Requests.WithLabels(endpoint, stream, outcome.MetricLabel()).Inc();
        Metrics.RequestDuration.WithLabels(endpoint, stream).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
    }
}
