using HarmonyProxy.Diagnostics;

namespace HarmonyProxy.Inspector;

/// <summary>
/// One request as the inspector keeps it: when it came and by which route, what the client sent,
/// what went to llama-server, what llama-server produced and what the client was given (each
/// bounded), and once it ended its result. Written by the request, read by the inspector's API:
/// every access takes its lock, and readers take a copy.
/// </summary>
internal sealed class RequestTrace(string id, DateTimeOffset started, string method, string path, int maxBodyBytes) : ITrafficRecorder
{
    private readonly Lock _gate = new();
    private readonly BoundedText _clientRequest = new(maxBodyBytes);
    private readonly List<(int Attempt, string Route, BoundedText Body)> _upstreamRequests = [];
    private readonly BoundedText _upstreamOutput = new(maxBodyBytes);
    private readonly BoundedText _reasoning = new(maxBodyBytes);
    private readonly BoundedText _content = new(maxBodyBytes);
    private readonly List<(string Name, BoundedText Arguments)> _toolCalls = [];
    private readonly List<string> _errors = [];
    private TrafficPart? _lastUpstreamPart;
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
        if (!_evicted)
        {
            lock (_gate)
            {
                _clientRequest.Append(body);
            }
        }
    }

    public void UpstreamRequest(int attempt, string route, ReadOnlySpan<byte> body)
    {
        if (_evicted)
        {
            return;
        }

        var kept = new BoundedText(maxBodyBytes);
        kept.Append(body);
        lock (_gate)
        {
            _upstreamRequests.Add((attempt, route, kept));
            if (attempt > 1)
            {
                _upstreamOutput.Append($"\n[attempt {attempt}: {route}]\n");
                _lastUpstreamPart = null;
            }
        }
    }

    public void UpstreamText(TrafficPart part, ReadOnlySpan<char> text, string? toolName = null)
    {
        if (_evicted)
        {
            return;
        }

        lock (_gate)
        {
            // A marker where the kind of text changes; raw Harmony in content reads as it came.
            if (toolName is not null || (part != _lastUpstreamPart && !(part == TrafficPart.Content && _lastUpstreamPart is null)))
            {
                _upstreamOutput.Append(_upstreamOutput.IsEmpty ? string.Empty : "\n");
                _upstreamOutput.Append(part switch
                {
                    TrafficPart.Reasoning => "[reasoning_content] ",
                    TrafficPart.ToolCall => $"[tool_call {toolName}] ",
                    TrafficPart.Error => "[error] ",
                    _ => "[content] ",
                });
            }

            _lastUpstreamPart = part;
            _upstreamOutput.Append(text);
        }
    }

    public void ClientText(TrafficPart part, ReadOnlySpan<char> text, string? toolName = null)
    {
        if (_evicted)
        {
            return;
        }

        lock (_gate)
        {
            switch (part)
            {
                case TrafficPart.Reasoning:
                    _reasoning.Append(text);
                    break;
                case TrafficPart.Content:
                    _content.Append(text);
                    break;
                case TrafficPart.ToolCall when toolName is not null:
                    _toolCalls.Add((toolName, new BoundedText(maxBodyBytes)));
                    break;
                case TrafficPart.ToolCall when _toolCalls.Count > 0:
                    _toolCalls[^1].Arguments.Append(text);
                    break;
                case TrafficPart.Error:
                    _errors.Add(text.ToString());
                    break;
            }
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

    /// <summary>A copy of what is known now, the texts with the secrets masked.</summary>
    public TraceSnapshot Snapshot(Redactor redactor, bool withBodies)
    {
        lock (_gate)
        {
            var snapshot = new TraceSnapshot(this, _result, _result?.Status ?? _status, Done: _result is not null || _status != 0);
            return !withBodies ? snapshot : snapshot with
            {
                ClientRequest = Kept(_clientRequest, redactor),
                UpstreamRequests = _upstreamRequests.Select(request => (request.Attempt, request.Route, Kept(request.Body, redactor))).ToList(),
                UpstreamOutput = Kept(_upstreamOutput, redactor),
                Received = new ClientReceived(
                    Kept(_reasoning, redactor),
                    Kept(_content, redactor),
                    _toolCalls.Select(call => (call.Name, Kept(call.Arguments, redactor))).ToList(),
                    _errors.Select(redactor.Redact).ToList()),
            };
        }
    }

    /// <summary>True when the request's kept text holds <paramref name="text"/> (the search of the list).</summary>
    public bool Mentions(string text, Redactor redactor)
    {
        var snapshot = Snapshot(redactor, withBodies: true);
        return new[] { Id, Path, snapshot.Result?.Model, snapshot.Result?.Client, snapshot.ClientRequest?.Text, snapshot.UpstreamOutput?.Text, snapshot.Received?.Content.Text, snapshot.Received?.Reasoning.Text }
            .Any(field => field?.Contains(text, StringComparison.OrdinalIgnoreCase) == true);
    }

    private static KeptBody Kept(BoundedText text, Redactor redactor) => new(redactor.Redact(text.ToString()), text.Cut, text.Offered);
}

/// <summary>A body as kept: its text, and whether (and from how many characters) it was cut.</summary>
internal sealed record KeptBody(string Text, bool Cut, long Length);

/// <summary>What the client was given: reasoning, answer text, tool calls by name and arguments, errors.</summary>
internal sealed record ClientReceived(KeptBody Reasoning, KeptBody Content, IReadOnlyList<(string Name, KeptBody Arguments)> ToolCalls, IReadOnlyList<string> Errors);

/// <summary>One request as the inspector shows it at one moment.</summary>
internal sealed record TraceSnapshot(RequestTrace Trace, CompletionResult? Result, int Status, bool Done)
{
    public KeptBody? ClientRequest { get; init; }

    public IReadOnlyList<(int Attempt, string Route, KeptBody Body)> UpstreamRequests { get; init; } = [];

    public KeptBody? UpstreamOutput { get; init; }

    public ClientReceived? Received { get; init; }
}
