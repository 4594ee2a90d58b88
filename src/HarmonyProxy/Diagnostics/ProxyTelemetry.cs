using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace HarmonyProxy.Diagnostics;

/// <summary>
/// The proxy's own OpenTelemetry signals, after the GenAI semantic conventions: a span per
/// upstream attempt under the request's server span, GenAI attributes on the request span, and
/// two histograms. All are recorded once per attempt or request, never per token, and cost
/// nothing while no OpenTelemetry listener is attached (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c> unset).
/// </summary>
internal static class ProxyTelemetry
{
    public const string Name = "HarmonyProxy";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    /// <summary><c>gen_ai.client.token.usage</c>: tokens per request, by <c>gen_ai.token.type</c> (input, output).</summary>
    public static readonly Histogram<long> TokenUsage = Meter.CreateHistogram<long>("gen_ai.client.token.usage", "{token}", "Tokens used per chat completion, by gen_ai.token.type.");

    /// <summary><c>gen_ai.server.time_to_first_token</c>: from the request to the first delta the client got.</summary>
    public static readonly Histogram<double> TimeToFirstToken = Meter.CreateHistogram<double>("gen_ai.server.time_to_first_token", "s", "Time to the first reasoning, answer or tool-call delta sent to the client.");

    /// <summary>True when an OpenTelemetry tracer listens: only then are attributes worth setting.</summary>
    public static bool Tracing => Source.HasListeners();

    /// <summary>A client span for one request to llama-server (send and relay); null when nobody listens.</summary>
    public static Activity? StartAttempt(int attempt, string? recovery)
    {
        var span = Source.StartActivity("chat llama-server", ActivityKind.Client);
        if (span is not null)
        {
            span.SetTag("gen_ai.operation.name", "chat");
            span.SetTag("harmony_proxy.attempt", attempt);
            if (recovery is not null)
            {
                span.SetTag("harmony_proxy.recovery", recovery);
            }
        }

        return span;
    }
}
