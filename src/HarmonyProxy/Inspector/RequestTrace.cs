using HarmonyProxy.Diagnostics;

namespace HarmonyProxy.Inspector;

/// <summary>
/// One request as the inspector keeps it: when it came and by which route, its bodies (bounded),
/// and once it ended its result. Written by the request, read by the inspector's API: every
/// access takes its lock, and readers take a copy.
/// </summary>
internal sealed class RequestTrace(string id, DateTimeOffset started, string method, string path, int maxBodyBytes) : ITrafficRecorder
{
    private readonly Lock _gate = new();
    private readonly BoundedBytes _clientRequest = new(maxBodyBytes);
    private readonly List<UpstreamRequestBody> _upstreamRequests = [];
    private readonly BoundedBytes _upstreamOutput = new(maxBodyBytes);
    private readonly BoundedBytes _clientResponse = new(maxBodyBytes);
    private CompletionResult? _result;
    private int _status;

    /// <summary>Out of the ring: nothing more is kept, so requests past <c>Inspector:MaxRequests</c> in flight cost no memory.</summary>
    private volatile bool _evicted;

    public string Id { get; } = id;

    public DateTimeOffset Started { get; } = started;

    public string Method { get; } = method;

    public string Path { get; } = path;

    /// <summary>The ring let it go: nothing more is kept (the request may still be running).</summary>
    public void Evict() => _evicted = true;

    public void ClientRequest(ReadOnlySpan<byte> body)
    {
        if (_evicted)
        {
            return;
        }

        lock (_gate)
        {
            _clientRequest.Append(body);
        }
    }

    public void UpstreamRequest(int attempt, string route, ReadOnlySpan<byte> body)
    {
        if (_evicted)
        {
            return;
        }

        var kept = new BoundedBytes(maxBodyBytes);
        kept.Append(body);
        lock (_gate)
        {
            _upstreamRequests.Add(new UpstreamRequestBody(attempt, route, kept));
        }
    }

    public void UpstreamEvent(ReadOnlySpan<byte> data)
    {
        if (_evicted)
        {
            return;
        }

        lock (_gate)
        {
            _upstreamOutput.Append(data);
            _upstreamOutput.Append("\n"u8);
        }
    }

    public void ClientResponse(ReadOnlySpan<byte> bytes)
    {
        if (_evicted)
        {
            return;
        }

        lock (_gate)
        {
            _clientResponse.Append(bytes);
        }
    }

    public void Finished(CompletionResult result)
    {
        lock (_gate)
        {
            _result = result;
        }
    }

    /// <summary>The request ended without a result of its own (a route that reports none): its status is what is known.</summary>
    public void Ended(int status)
    {
        lock (_gate)
        {
            _status = status;
        }
    }

    /// <summary>A copy of what is known now, the bodies as text with the secrets masked.</summary>
    public TraceSnapshot Snapshot(Redactor redactor, bool withBodies)
    {
        lock (_gate)
        {
            return new TraceSnapshot(this, _result, _result?.Status ?? _status, Done: _result is not null || _status != 0)
            {
                ClientRequest = withBodies ? Body(_clientRequest, redactor) : null,
                UpstreamRequests = withBodies ? _upstreamRequests.Select(request => (request.Attempt, request.Route, Body(request.Body, redactor))).ToList() : [],
                UpstreamOutput = withBodies ? Body(_upstreamOutput, redactor) : null,
                ClientResponse = withBodies ? Body(_clientResponse, redactor) : null,
            };
        }
    }

    /// <summary>True when the request's kept text holds <paramref name="text"/> (the search of the list).</summary>
    public bool Mentions(string text, Redactor redactor)
    {
        var snapshot = Snapshot(redactor, withBodies: true);
        return new[] { Id, Path, snapshot.Result?.Model, snapshot.Result?.Client, snapshot.ClientRequest?.Text, snapshot.UpstreamOutput?.Text, snapshot.ClientResponse?.Text }
            .Any(field => field?.Contains(text, StringComparison.OrdinalIgnoreCase) == true);
    }

    private static KeptBody Body(BoundedBytes bytes, Redactor redactor) => new(redactor.Redact(bytes.Text()), bytes.Cut, bytes.Offered);

    private sealed record UpstreamRequestBody(int Attempt, string Route, BoundedBytes Body);
}

/// <summary>A body as kept: its text, and whether (and from how many bytes) it was cut.</summary>
internal sealed record KeptBody(string Text, bool Cut, long Bytes);

/// <summary>One request as the inspector shows it at one moment.</summary>
internal sealed record TraceSnapshot(RequestTrace Trace, CompletionResult? Result, int Status, bool Done)
{
    public KeptBody? ClientRequest { get; init; }

    public IReadOnlyList<(int Attempt, string Route, KeptBody Body)> UpstreamRequests { get; init; } = [];

    public KeptBody? UpstreamOutput { get; init; }

    public KeptBody? ClientResponse { get; init; }
}
