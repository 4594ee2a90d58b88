namespace LlamaServerSim;

/// <summary>Defaults for requests that have no <see cref="SimScript"/> queued.</summary>
public sealed record SimulatorOptions
{
    public SimFlavour Flavour { get; init; } = SimFlavour.Raw;

    /// <summary>0 sends tokens as fast as possible.</summary>
    public double TokensPerSecond { get; init; }

    public string Model { get; init; } = "gpt-oss-20b";

    /// <summary>Served by /health and /v1/models while true; 503 "Loading model" otherwise.</summary>
    public bool Ready { get; init; } = true;

    /// <summary>Share of requests (without a queued script) that get a random fault; for soak runs.</summary>
    public double FaultRate { get; init; }

    /// <summary>
    /// llama-server's own gpt-oss parser fails every request that does not ask for raw output
    /// (<c>reasoning_format: none</c> with <c>parse_tool_calls: false</c>); those are answered
    /// in the raw flavour (llama-server.md §3, "Parse-error mechanics").
    /// </summary>
    public SimParseFailure ParseFailure { get; init; }

    /// <summary>The gpt-oss template's history checks (llama-server.md §2.6) answer 500 as a real template does.</summary>
    public bool TemplateChecks { get; init; }

    /// <summary>Never send usage, even when asked (a server or a proxy in between that drops it).</summary>
    public bool OmitUsage { get; init; }

    /// <summary>Serve <c>/props</c>; builds before it existed answer 404.</summary>
    public bool PropsAvailable { get; init; } = true;

    /// <summary>
    /// llama-server's router mode (<c>--models-dir</c>): these models, the first loaded, the others
    /// unloaded until a request names one; null: one model (<see cref="Model"/>).
    /// </summary>
    public IReadOnlyList<string>? RouterModels { get; init; }

    /// <summary>False: an older build without <c>POST /apply-template</c> (404).</summary>
    public bool ApplyTemplateAvailable { get; init; } = true;

    /// <summary><c>/props</c> <c>total_slots</c> (llama-server's <c>-np</c>).</summary>
    public int TotalSlots { get; init; } = 4;

    /// <summary>
    /// Model llama-server's per-slot prompt cache: each slot keeps its last prompt; a request
    /// continues the slot whose prompt it extends (else the least recently used one) and reports
    /// the reused tokens as <c>timings.cache_n</c> and <c>usage.prompt_tokens_details.cached_tokens</c>.
    /// </summary>
    public bool PromptCache { get; init; }

    /// <summary>Prompt processing speed: the first token waits (prompt tokens − cached) / this; 0: no wait.</summary>
    public double PromptTokensPerSecond { get; init; }

    /// <summary><c>/props</c> <c>default_generation_settings.n_ctx</c>: the context of one slot.</summary>
    public int ContextSize { get; init; } = 8192;

    public string BuildInfo { get; init; } = "b6865-1c1409e13";

    /// <summary>The Jinja template <c>/props</c> reports; gpt-oss's holds Harmony tags.</summary>
    public string ChatTemplate { get; init; } = LlamaServerSimulator.GptOssTemplateExcerpt;
}

/// <summary>How llama-server's parser fails a gpt-oss turn.</summary>
public enum SimParseFailure
{
    None,

    /// <summary>The final parse throws before the first delta: HTTP 500 "Failed to parse input at pos 0: …".</summary>
    BeforeOutput,

    /// <summary>The reasoning streams, then the final parse throws: an error event, no finish, no <c>[DONE]</c>.</summary>
    AfterReasoning,
}
