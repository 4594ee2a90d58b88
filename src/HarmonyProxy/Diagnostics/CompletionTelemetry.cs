namespace HarmonyProxy.Diagnostics;

/// <summary>The ending value as OpenTelemetry sees it: GenAI attributes on the request's span and the GenAI histograms, when a listener is attached.</summary>
internal static class CompletionTelemetry
{
    public static void Record(HttpContext context, CompletionResult result)
    {
        if (!ProxyTelemetry.Tracing || result.AttemptLog.Count == 0)
        {
            return;
        }

        if (result.TimeToFirstToken is { } ttft)
        {
            ProxyTelemetry.TimeToFirstToken.Record(ttft, new KeyValuePair<string, object?>("gen_ai.operation.name", "chat"));
        }

        if (result.Tokens is var (input, output))
        {
            ProxyTelemetry.TokenUsage.Record(input, new KeyValuePair<string, object?>("gen_ai.token.type", "input"));
            ProxyTelemetry.TokenUsage.Record(output, new KeyValuePair<string, object?>("gen_ai.token.type", "output"));
        }

        if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpActivityFeature>()?.Activity is not { IsAllDataRequested: true } span)
        {
            return;
        }

        span.SetTag("gen_ai.operation.name", "chat");
        span.SetTag("gen_ai.request.model", result.Model);
        span.SetTag("harmony_proxy.request_id", result.RequestId);
        span.SetTag("harmony_proxy.outcome", result.Outcome.Name());
        span.SetTag("harmony_proxy.upstream_attempts", result.Attempts);
        if (result.Recovery is not null)
        {
            span.SetTag("harmony_proxy.recovery", result.Recovery);
        }

        if (result.FinishReason is { } finish)
        {
            span.SetTag("gen_ai.response.finish_reasons", new[] { finish });
        }

        if (result.Tokens is var (inputTokens, outputTokens))
        {
            span.SetTag("gen_ai.usage.input_tokens", inputTokens);
            span.SetTag("gen_ai.usage.output_tokens", outputTokens);
        }

        if (result.TimeToFirstToken is { } firstToken)
        {
            span.SetTag("gen_ai.server.time_to_first_token", firstToken);
        }
    }
}
