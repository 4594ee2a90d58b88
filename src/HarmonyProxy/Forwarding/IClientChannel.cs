using HarmonyProxy.Completions;
using HarmonyProxy.Upstream;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Forwarding;

/// <summary>
/// Where a completion goes: the client, as SSE events or one JSON body, in its API's wire format.
/// The forwarder sees nothing of HTTP but this (the endpoints' <c>ClientResponse</c> implements it
/// over the request's connection; tests implement it in memory). It owns the answer to "has
/// anything been sent", and so whether an attempt may start again and how a failure ends.
/// </summary>
internal interface IClientChannel
{
    /// <summary>SSE events when true, else one JSON body written at the end.</summary>
    bool Streams { get; }

    /// <summary>The translator writing the response (a restart of a JSON response replaces it).</summary>
    CompletionTranslator Translator { get; }

    /// <summary>True while another attempt would not repeat anything the client was shown.</summary>
    bool CanRestart { get; }

    /// <summary>True when an ending can show the client something: output was produced, or headers went out.</summary>
    bool HasOutput { get; }

    /// <summary>The status the client got (200 once a stream started).</summary>
    int Status { get; }

    /// <summary>Opens the response with the forwarder's translator (told the sink and whether it passes upstream's usage as is).</summary>
    void Open(Func<ICompletionSink, bool, CompletionTranslator> newTranslator);

    /// <summary>Forgets the last attempt's output for the next one (only while <see cref="CanRestart"/>).</summary>
    void Restart();

    /// <summary>Before the relay waits for upstream: a stream sends what is pending; a JSON body waits for the end.</summary>
    ValueTask FlushEventsAsync(CancellationToken cancellationToken);

    /// <summary>Ends with <paramref name="failure"/>: an HTTP error while nothing was sent (true), else one error event (false).</summary>
    Task<bool> FailAsync(UpstreamFailure failure);

    /// <summary>The final write: a stream's finish and end, or the whole JSON body.</summary>
    Task CompleteAsync();
}
