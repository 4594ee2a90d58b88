using HarmonyProxy.Completions;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.Preparation;

namespace HarmonyProxy.Forwarding;

/// <summary>One prepared completion request and what the forwarder needs to know of its client; no HTTP types.</summary>
internal sealed record ForwardRequest
{
    public required string RequestId { get; init; }

    /// <summary>The API it came in by, for the result (<c>chat_completions</c>, <c>responses</c>, <c>messages</c>).</summary>
    public required string Endpoint { get; init; }

    public required PreparedRequest Prepared { get; init; }

    public required OutputOptions Output { get; init; }

    /// <summary>The client profile its headers matched, for the result.</summary>
    public string? Client { get; init; }

    /// <summary>Whose reasoning memory the turn's reasoning goes to.</summary>
    public required string Owner { get; init; }

    /// <summary>The client's <c>Authorization</c>, when llama-server should see it (<c>ClientCredentials.ForwardedAuthorization</c>).</summary>
    public string? ClientAuthorization { get; init; }

    /// <summary>Which backend's prompt cache the conversation belongs to, or null.</summary>
    public string? AffinityKey { get; init; }

    /// <summary>When the request arrived (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    public long Started { get; init; }

    /// <summary>The client went away.</summary>
    public CancellationToken ClientAborted { get; init; }

    /// <summary>The request inspector's record of this request's traffic, or null when the inspector is off.</summary>
    public ITrafficRecorder? Recorder { get; init; }

    /// <summary>Connection details (upstream host and port, exception text) may go into the client's error (<c>Security:ExposeUpstreamErrorDetails</c>).</summary>
    public bool ExposeErrorDetails { get; init; }

    /// <summary>The proxy's drain time is over: the generation ends as a watchdog would end it.</summary>
    public CancellationToken Shutdown { get; init; }
}
