namespace HarmonyProxy.Upstream;

/// <summary>
/// Inside the resilience pipeline, so it sees every try the pipeline makes: counts each request
/// that goes to llama-server on the client request's <see cref="UpstreamRetryBudget"/>, which makes
/// the logged attempt count what llama-server received.
/// </summary>
internal sealed class SendCountingHandler : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Options.TryGetValue(UpstreamRetryBudget.Key, out var budget))
        {
            budget.CountSend();
        }

        return base.SendAsync(request, cancellationToken);
    }
}
