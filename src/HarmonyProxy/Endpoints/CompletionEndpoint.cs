using HarmonyProxy.Completions;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.Forwarding;
using HarmonyProxy.Preparation;
using HarmonyProxy.Security;
using HarmonyProxy.Upstream;
using HarmonyProxy.Wire;
using Microsoft.Extensions.Options;

namespace HarmonyProxy.Endpoints;

/// <summary>
/// What the completion endpoints share around the forwarder: the request's start (in flight, the
/// drain held open), its channel over the HTTP response, and its one result, reported once,
/// whether the forwarder ran or the request was refused before it.
/// </summary>
internal sealed class CompletionEndpoint(
    CompletionPreparer preparer,
    CompletionForwarder forwarder,
    CompletionReporter reporter,
    DrainState drain,
    ProxyMetrics metrics,
    TimeProvider time,
    IOptionsMonitor<UpstreamOptions> upstream,
    IOptionsMonitor<OutputDefaults> output,
    IOptionsMonitor<ClientOptions> clients,
    IOptionsMonitor<SecurityOptions> security,
    ILogger<CompletionEndpoint> logger)
{
    public CompletionPreparer Preparer => preparer;

    public ProxyMetrics Metrics => metrics;

    public TimeProvider Time => time;

    public ILogger Logger => logger;

    /// <summary>Counts the request as in flight and holds the drain open until disposed.</summary>
    public IDisposable Enter() => new InFlight(metrics, drain.Enter());

    /// <summary>The client's profile from its headers, or null.</summary>
    public ClientProfile? DetectClient(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ClientProfiles.Detect(clients.CurrentValue.Profiles, context.Request.Headers);
    }

    /// <summary>The request's output: the deployment's, the profile's, then its headers' (<see cref="OutputOptionsResolver"/>).</summary>
    public bool TryResolveOutput(HttpContext context, ClientProfile? profile, out OutputOptions options, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(context);
        return OutputOptionsResolver.TryResolve(output.CurrentValue, profile, context.Request.Headers, out options, out problem);
    }

    /// <summary>A request refused before llama-server was asked: answered in its API's shape, and its result reported.</summary>
    public async Task RejectAsync(HttpContext context, string endpoint, PreparedRequest? prepared, RequestProblem problem, long started)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(problem);
        await ErrorResults.WriteAsync(context, problem.Status, problem.Message, OpenAiError.InvalidRequest, problem.Code, problem.Param);
        reporter.Report(context, new CompletionResult
        {
            RequestId = context.TraceIdentifier,
            Endpoint = endpoint,
            Outcome = CompletionOutcome.ClientError,
            Status = problem.Status,
            FailureCode = problem.Code,
            Model = prepared?.Model,
            Stream = prepared?.ClientStreams,
            DurationSeconds = time.GetElapsedTime(started).TotalSeconds,
        });
    }

    /// <summary>A request that needed no completion (a token count): its result, reported.</summary>
    public void Answered(HttpContext context, string endpoint, long started) =>
        reporter.Report(context, new CompletionResult
        {
            RequestId = context.TraceIdentifier,
            Endpoint = endpoint,
            Outcome = CompletionOutcome.Ok,
            Status = context.Response.StatusCode,
            Stream = false,
            DurationSeconds = time.GetElapsedTime(started).TotalSeconds,
        });

    /// <summary>Forwards a prepared request to llama-server and writes its response in the API's wire format.</summary>
    public async Task<CompletionResult> ForwardAsync(HttpContext context, string endpoint, PreparedRequest prepared, OutputOptions output, ICompletionWire wire, ClientProfile? profile, long started)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(prepared);
        var current = upstream.CurrentValue;
        var request = new ForwardRequest
        {
            RequestId = context.TraceIdentifier,
            Endpoint = endpoint,
            Prepared = prepared,
            Output = output,
            Client = profile?.Name ?? ClientProfiles.Unknown,
            Owner = ClientCredentials.Identity(context),
            ClientAuthorization = ClientCredentials.ForwardedAuthorization(context),
            AffinityKey = !current.Affinity ? null
                : context.Request.Headers[ConversationAffinity.Header] is { Count: > 0 } header && header.ToString().Length > 0 ? "session:" + header
                : prepared.AffinityKey,
            Started = started,
            ClientAborted = context.RequestAborted,
            ExposeErrorDetails = security.CurrentValue.ExposeUpstreamErrorDetails,
            Recorder = context.Features.Get<ITrafficRecorder>(),
            Shutdown = drain.StreamsMustEnd,
        };
        CompletionResult result;
        await using (var channel = new ClientResponse(context, wire, prepared.ClientStreams, prepared.ClientWantsUsage, time, current.KeepAlive))
        {
            result = await forwarder.ForwardAsync(request, channel);
        }

        reporter.Report(context, result);
        return result;
    }

    private sealed class InFlight(ProxyMetrics metrics, IDisposable drainHold) : IDisposable
    {
        private readonly IDisposable _stream = metrics.StreamInFlight();

        public void Dispose()
        {
            drainHold.Dispose();
            _stream.Dispose();
        }
    }
}
