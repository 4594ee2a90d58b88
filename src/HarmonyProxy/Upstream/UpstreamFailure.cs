using HarmonyProxy.Wire;

namespace HarmonyProxy.Upstream;

/// <summary>An upstream failure, as the HTTP error the client gets, and what it means for another attempt.</summary>
/// <param name="Kind">Whether the same request may succeed again, be recovered, or never succeed (<see cref="LlamaServerErrors"/>).</param>
/// <param name="Param">The request field the error is about, when there is one.</param>
internal sealed record UpstreamFailure(int Status, string Message, string Type, string Code, TimeSpan? RetryAfter = null, UpstreamErrorKind Kind = UpstreamErrorKind.Transient, string? Param = null)
{
    public const string NotACompletionCode = "upstream_not_a_completion";

    /// <summary>For a prompt too long: its size in tokens, when llama-server said.</summary>
    public int? PromptTokens { get; init; }

    /// <summary>For a prompt too long: the context of a slot, when llama-server said.</summary>
    public int? ContextTokens { get; init; }

    /// <summary>The <c>param</c> of an error about the whole conversation; each wire names its own field for it.</summary>
    public const string ConversationParam = "messages";

    private const int MaxErrorBodyBytes = 64 * 1024;

    /// <param name="detail">": reason" when the operator exposes details, else ".".</param>
    public static UpstreamFailure Unreachable(string detail) =>
        new(502, "The upstream llama-server could not be reached" + detail, OpenAiError.Upstream, "upstream_unreachable");

    /// <summary>The body ended before llama-server finished, without an error.</summary>
    public static UpstreamFailure StreamEnded() =>
        new(502, "The upstream llama-server closed the stream before finishing.", OpenAiError.Upstream, "upstream_stream_ended");

    /// <summary>A 200 whose body held no completion (an HTML page from a proxy in between, SSE that is not JSON): the backend is not serving; another attempt may be.</summary>
    public static UpstreamFailure NotACompletion(string? mediaType) =>
        new(502, $"The upstream answered 200 ({mediaType ?? "no content type"}) with a body that is not a completion.", OpenAiError.Upstream, NotACompletionCode);

    /// <summary>One event over the bound (<c>MaxUpstreamEventBytes</c>): the attempt ends; the same request would send it again.</summary>
    public static UpstreamFailure EventTooLarge(int maxEventBytes) =>
        new(502, $"The upstream llama-server sent an event larger than the proxy's limit of {maxEventBytes} bytes (Upstream:MaxUpstreamEventBytes); the generation was ended.", OpenAiError.Upstream, "upstream_event_too_large", Kind: UpstreamErrorKind.Deterministic);

    public static UpstreamFailure TimedOut(string what) =>
        new(504, $"The upstream llama-server did not answer in time ({what}).", OpenAiError.Upstream, "upstream_timeout");

    /// <summary>
    /// Maps an upstream error status: 5xx become 502/503/504 (503 keeps its meaning, e.g.
    /// "Loading model"); 4xx keep their status; the upstream's own message is included; a
    /// context overflow becomes OpenAI's <c>context_length_exceeded</c>; a 401 or 403 to the proxy's
    /// own upstream key is a 502 (the operator's key was refused; the client's was fine).
    /// </summary>
    /// <param name="ownKeySent">Whether the request carried the proxy's upstream key (<see cref="UpstreamClient.SendsOwnKey"/>).</param>
    /// <param name="now">The proxy's clock, for a <c>Retry-After</c> given as a date.</param>
    public static async Task<UpstreamFailure> FromResponseAsync(HttpResponseMessage response, bool ownKeySent, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        var upstreamStatus = (int)response.StatusCode;
        var error = await ReadErrorAsync(response, cancellationToken);
        var detail = error.Message ?? "(no body)";
        var kind = LlamaServerErrors.Classify(upstreamStatus, error.Message);
        var retryAfter = response.Headers.RetryAfter?.Delta
            ?? (response.Headers.RetryAfter?.Date is { } date ? date - now : null);

        UpstreamFailure failure = upstreamStatus switch
        {
            503 => new(503, $"The upstream llama-server is unavailable (503): {detail}", OpenAiError.Upstream, "upstream_unavailable", retryAfter ?? TimeSpan.FromSeconds(1)),
            504 => new(504, $"The upstream llama-server timed out (504): {detail}", OpenAiError.Upstream, "upstream_timeout", retryAfter),
            >= 500 => new(502, $"The upstream llama-server failed ({upstreamStatus}): {detail}", OpenAiError.Upstream, "upstream_error", retryAfter),
            429 => new(429, $"The upstream llama-server is rate limiting (429): {detail}", OpenAiError.Upstream, "upstream_rate_limited", retryAfter),
            400 when LlamaServerErrors.IsContextOverflow(error.Type, error.Message) => ContextLengthExceeded(error),
            401 or 403 when ownKeySent => KeyRefused(upstreamStatus, detail),
            >= 400 => new(upstreamStatus, detail, upstreamStatus is 401 or 403 ? "authentication_error" : OpenAiError.InvalidRequest, "upstream_rejected"),
            _ => new(502, $"The upstream llama-server answered with unexpected status {upstreamStatus}.", OpenAiError.Upstream, "upstream_error"),
        };
        return failure.Code == "upstream_key_refused" ? failure : failure with { Kind = kind };
    }

    /// <summary>llama-server refused the proxy's own upstream key: nothing the client can fix, and no retry helps.</summary>
    public static UpstreamFailure KeyRefused(int upstreamStatus, string detail) =>
        new(502, $"The proxy's upstream key was refused by llama-server ({upstreamStatus}: {detail}); the operator must set Upstream:ApiKey to llama-server's --api-key.", OpenAiError.Upstream, "upstream_key_refused", Kind: UpstreamErrorKind.Deterministic);

    /// <summary>An error event inside an upstream stream (llama-server's mid-stream failures; older builds' errors of any kind).</summary>
    /// <param name="code">The event's <c>code</c> (llama-server sends the HTTP status it would have used), or null.</param>
    /// <param name="type">The event's <c>type</c>: <c>unavailable_error</c> stands for 503 when no code came.</param>
    public static UpstreamFailure MidStream(string message, string type, string? code)
    {
        if (LlamaServerErrors.IsContextOverflow(type, message))
        {
            return ContextLengthExceeded(new LlamaServerError(message, type));
        }

        var status = int.TryParse(code, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number)
            ? number
            : type == "unavailable_error" ? 503 : 500;
        return new(502, $"The upstream llama-server failed during generation: {message}", type, code ?? "upstream_error", Kind: LlamaServerErrors.Classify(status, message));
    }

    /// <summary>
    /// OpenAI's answer to a prompt that does not fit, which Roo, Kilo and Cline detect to condense
    /// the conversation: 400, <c>context_length_exceeded</c>, <c>param: messages</c>, and both sizes.
    /// </summary>
    private static UpstreamFailure ContextLengthExceeded(LlamaServerError error)
    {
        var (prompt, context) = LlamaServerErrors.ContextOverflowSizes(error.Message, error.PromptTokens, error.ContextSize);
        var message = prompt is not null && context is not null
            ? $"This model's maximum context length is {context} tokens. However, your messages resulted in {prompt} tokens. Please reduce the length of the messages. (llama-server: {error.Message})"
            : $"This model's maximum context length was exceeded. Please reduce the length of the messages. (llama-server: {error.Message})";
        return new(400, message, OpenAiError.InvalidRequest, "context_length_exceeded", Kind: UpstreamErrorKind.Deterministic, Param: ConversationParam)
        {
            PromptTokens = prompt,
            ContextTokens = context,
        };
    }

    private static async Task<LlamaServerError> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return LlamaServerError.Parse(await UpstreamBodies.ReadBoundedAsync(response.Content, MaxErrorBodyBytes, cancellationToken));
        }
        catch (HttpRequestException)
        {
            return new LlamaServerError(null, null);
        }
    }
}
