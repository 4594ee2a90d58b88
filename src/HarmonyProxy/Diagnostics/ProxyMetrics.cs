using Prometheus;

namespace HarmonyProxy.Diagnostics;

/// <summary>
/// HarmonyProxy's own Prometheus metrics. Labels are low-cardinality only: never model text,
/// never a tool name. Counters are updated once per request, outside the token loop.
/// Created on an injected <see cref="CollectorRegistry"/> (the default one in production, a
/// fresh one per test host), so tests can assert exact deltas.
/// </summary>
internal sealed class ProxyMetrics
{
    /// <summary>Buckets for local LLMs: a request can take from a fraction of a second to half an hour.</summary>
    private static readonly double[] DurationBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800];

    /// <summary>Prompt processing on a small GPU can take minutes before the first token.</summary>
    private static readonly double[] FirstTokenBuckets = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600];

    public ProxyMetrics(CollectorRegistry registry)
    {
        var factory = Metrics.WithCustomRegistry(registry);
        Requests = factory.CreateCounter("harmony_proxy_requests_total", "Requests handled, by endpoint, streaming and outcome (ok, client_error, upstream_error, watchdog, client_cancelled, rejected).", ["endpoint", "stream", "outcome"]);
        RequestDuration = factory.CreateHistogram("harmony_proxy_request_duration_seconds", "Time from request to the last byte of the response.", ["endpoint", "stream"], new HistogramConfiguration { Buckets = DurationBuckets });
        TimeToFirstToken = factory.CreateHistogram("harmony_proxy_time_to_first_token_seconds", "Time from request to the first reasoning, answer or tool-call delta sent to the client.", ["stream"], new HistogramConfiguration { Buckets = FirstTokenBuckets });
        ParserEvents = factory.CreateCounter("harmony_proxy_parser_events_total", "Harmony parser events: final_chunk, reasoning_chunk, tool_call, fallback, malformed, stripped_form, leaked_tags_cleaned.", ["event"]);
        ToolCalls = factory.CreateCounter("harmony_proxy_tool_calls_total", "Tool calls returned to clients.");
        ToolCallsDropped = factory.CreateCounter("harmony_proxy_tool_calls_dropped_total", "Tool calls the model made that the request did not allow (a tool it did not offer, tool_choice none, a second call with parallel_tool_calls false).");
        UpstreamRetries = factory.CreateCounter("harmony_proxy_upstream_retries_total", "Upstream attempts retried, by reason.", ["reason"]);
        WatchdogTerminations = factory.CreateCounter("harmony_proxy_watchdog_terminations_total", "Generations ended by a watchdog, by kind (first_byte, idle, no_visible_output, total).", ["kind"]);
        StreamsInFlight = factory.CreateGauge("harmony_proxy_streams_in_flight", "Completions being served right now.");

        // Read when scraped: what the proxy makes the GC do, per relayed token, measured from outside (bench/load.sh).
        var allocated = factory.CreateCounter("harmony_proxy_allocated_bytes_total", "Bytes the process has allocated on the managed heap since it started (GC.GetTotalAllocatedBytes).");
        registry.AddBeforeCollectCallback(() => allocated.IncTo(GC.GetTotalAllocatedBytes()));
        UpstreamReady = factory.CreateGauge("harmony_proxy_upstream_ready", "1 when the last readiness probe reached llama-server, else 0.");
        Tokens = factory.CreateCounter("harmony_proxy_tokens_total", "Tokens reported by llama-server's usage, by kind (prompt, completion).", ["kind"]);
        Recoveries = factory.CreateCounter("harmony_proxy_recoveries_total", "Requests llama-server failed that the proxy asked again in another way, by kind (raw_reparse: its parser failed, so it was asked for raw Harmony; history_repair: its template rejected the history) and outcome (recovered, failed).", ["kind", "outcome"]);
        UpstreamInfo = factory.CreateGauge("harmony_proxy_upstream_info", "What llama-server's /props reported (value 1): build, model, context per slot, slots.", ["build", "model", "n_ctx", "slots"]);
        UpstreamTemplateMismatch = factory.CreateGauge("harmony_proxy_upstream_chat_template_mismatch", "1 when llama-server's chat template (from /props) is not gpt-oss's, so Harmony is not what the model is prompted with.");
        ResponsesLeftOut = factory.CreateCounter("harmony_proxy_responses_left_out_total", "Parts of Responses API requests llama-server cannot serve, left out: hosted tools (kind tool: web_search, file_search…) and input items (kind item), by type.", ["kind", "type"]);
        ResponsesReasoningUnreadable = factory.CreateCounter("harmony_proxy_responses_reasoning_unreadable_total", "Replayed encrypted_content reasoning blobs that did not open (tampered, sealed by other keys, or expired); their plain text was used if sent.");
        ResponsesReasoningUnsealed = factory.CreateCounter("harmony_proxy_responses_reasoning_unsealed_total", "Reasoning items answered without encrypted_content because the keys that seal it (on Redis) have not been read yet.");
        MessagesThinkingUnreadable = factory.CreateCounter("harmony_proxy_messages_thinking_unreadable_total", "Thinking blocks sent back to /v1/messages whose signature did not open (tampered, sealed by other keys, or expired); ignored.");
        ReasoningMemory = factory.CreateCounter("harmony_proxy_reasoning_memory_total", "The reasoning memory, by event: stored (a tool-call turn's reasoning kept for later), restored (put back into a history that lacked it), miss (not found), kept (sent to llama-server by Harmony's rule), dropped (removed by the rule: turns before a final answer).", ["event"]);
        StoreErrors = factory.CreateCounter("harmony_proxy_store_errors_total", "Failures of the shared store (reasoning memory, stored responses), by store, operation and kind (timeout, error, paused: not asked for a few seconds after a failure).", ["store", "operation", "kind"]);
        StoreEvictions = factory.CreateCounter("harmony_proxy_store_evictions_total", "Entries of the in-process store given up, by reason: client_quota (a client over its share gave up its own oldest), global_bound (the store's bounds), too_large (larger than a client's share: not stored).", ["reason"]);
        RequestsByClient = factory.CreateCounter("harmony_proxy_requests_by_client_total", "Completion requests by the client profile detected from their headers.", ["client"]);
        LoopGuard = factory.CreateCounter("harmony_proxy_loop_guard_total", "Loops seen: reasoning_repeat (a generation whose reasoning repeated itself, ended), repeated_tool_call (a history ending with the same tool call several times).", ["kind"]);
        BackendRequests = factory.CreateCounter("harmony_proxy_backend_requests_total", "Upstream attempts sent to each llama-server backend.", ["backend"]);
        BackendInFlight = factory.CreateGauge("harmony_proxy_backend_in_flight", "Slots taken on each backend right now.", ["backend"]);
        BackendSlots = factory.CreateGauge("harmony_proxy_backend_slots", "Each backend's slot cap (configured, else its /props total_slots, else MaxConcurrentRequests).", ["backend"]);
        BackendEjections = factory.CreateCounter("harmony_proxy_backend_ejections_total", "Backends set aside after a failure (connection, timeout, 502, 503, 504), for a back-off that grows with failures in a row.", ["backend"]);
        Affinity = factory.CreateCounter("harmony_proxy_affinity_total", "Backend choices by conversation affinity: hit (the backend the key prefers), miss (it was full or down: another took the request), none (no key).", ["result"]);
        UpstreamReady.Set(0);
        UpstreamTemplateMismatch.Set(0);
    }

    public Counter Requests { get; }

    public Histogram RequestDuration { get; }

    public Histogram TimeToFirstToken { get; }

    public Counter ParserEvents { get; }

    public Counter ToolCalls { get; }

    public Counter ToolCallsDropped { get; }

    public Counter UpstreamRetries { get; }

    public Counter WatchdogTerminations { get; }

    public Gauge StreamsInFlight { get; }

    public Gauge UpstreamReady { get; }

    public Counter Tokens { get; }

    public Counter Recoveries { get; }

    public Gauge UpstreamInfo { get; }

    public Gauge UpstreamTemplateMismatch { get; }

    public Counter ResponsesLeftOut { get; }

    public Counter ReasoningMemory { get; }

    public Counter StoreErrors { get; }

    public Counter StoreEvictions { get; }

    public Counter RequestsByClient { get; }

    public Counter LoopGuard { get; }

    public Counter BackendRequests { get; }

    public Gauge BackendInFlight { get; }

    public Gauge BackendSlots { get; }

    public Counter BackendEjections { get; }

    public Counter Affinity { get; }

    public Counter ResponsesReasoningUnreadable { get; }

    public Counter ResponsesReasoningUnsealed { get; }

    public Counter MessagesThinkingUnreadable { get; }

    /// <summary>A completion started; disposing the handle ends it.</summary>
    public IDisposable StreamInFlight()
    {
        StreamsInFlight.Inc();
        return new InFlightHandle(StreamsInFlight);
    }

    /// <summary>Harmony's keep/drop rule on one request's history.</summary>
    public void ReasoningRule(int kept, int dropped)
    {
        ReasoningMemory.WithLabels("kept").Inc(kept);
        ReasoningMemory.WithLabels("dropped").Inc(dropped);
    }

    /// <summary>The reasoning memory: <c>stored</c>, <c>restored</c> or <c>miss</c>.</summary>
    public void ReasoningMemoryEvent(string memoryEvent, int count = 1) => ReasoningMemory.WithLabels(memoryEvent).Inc(count);

    public void LoopSeen(string kind) => LoopGuard.WithLabels(kind).Inc();

    public void ResponsesPartLeftOut(string kind, string type) => ResponsesLeftOut.WithLabels(kind, type).Inc();

    public void ResponsesReasoningNotOpened(int count) => ResponsesReasoningUnreadable.Inc(count);

    public void ResponsesReasoningNotSealed() => ResponsesReasoningUnsealed.Inc();

    public void MessagesThinkingNotOpened(int count) => MessagesThinkingUnreadable.Inc(count);

    /// <summary>The shared store failed (<c>timeout</c>, <c>error</c>) or was not asked (<c>paused</c>).</summary>
    public void StoreFailed(string store, string operation, string kind) => StoreErrors.WithLabels(store, operation, kind).Inc();

    public void StoreEvicted(string reason, int count = 1) => StoreEvictions.WithLabels(reason).Inc(count);

    public void UpstreamReadiness(bool ready) => UpstreamReady.Set(ready ? 1 : 0);

    /// <summary>What llama-server's /props said, replacing what an earlier reading said.</summary>
    public void UpstreamDescribed(string[]? previousLabels, string[] labels, bool templateMismatch)
    {
        if (previousLabels is not null)
        {
            UpstreamInfo.RemoveLabelled(previousLabels);
        }

        UpstreamInfo.WithLabels(labels).Set(1);
        UpstreamTemplateMismatch.Set(templateMismatch ? 1 : 0);
    }

    public void BackendSlotCap(string backend, int slots) => BackendSlots.WithLabels(backend).Set(slots);

    public void BackendAdded(string backend, int slots)
    {
        BackendSlotCap(backend, slots);
        BackendInFlight.WithLabels(backend).Set(0);
    }

    /// <summary>A slot taken on a backend, and how affinity chose it (<c>hit</c>, <c>miss</c>, <c>none</c>).</summary>
    public void BackendSlotTaken(string backend, string affinity)
    {
        BackendInFlight.WithLabels(backend).Inc();
        BackendRequests.WithLabels(backend).Inc();
        Affinity.WithLabels(affinity).Inc();
    }

    public void BackendSlotGiven(string backend) => BackendInFlight.WithLabels(backend).Dec();

    public void BackendEjected(string backend) => BackendEjections.WithLabels(backend).Inc();

    private sealed class InFlightHandle(Gauge gauge) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                gauge.Dec();
            }
        }
    }
}
