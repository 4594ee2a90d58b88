using System.Net.Http.Headers;

namespace HarmonyProxy.Upstream;

/// <summary>
/// The typed <see cref="HttpClient"/> to llama-server. It returns as soon as response headers
/// arrive (<see cref="HttpCompletionOption.ResponseHeadersRead"/>) so the body can be relayed
/// token by token; the caller owns the response.
/// </summary>
internal sealed class UpstreamClient(HttpClient http, UpstreamCredentials credentials)
{
    public const string ClientName = "llama-server";

    /// <summary>True when requests carry the proxy's own upstream key: a 401 or 403 then refuses the proxy, not the client.</summary>
    public bool SendsOwnKey => credentials.ApiKey is not null;

    /// <param name="backend">The backend's API base (<see cref="BackendPool"/>); its authority selects its own resilience pipeline, breaker included.</param>
    /// <param name="body">The prepared request as UTF-8 JSON; sent as is on every attempt.</param>
    public async Task<HttpResponseMessage> SendChatAsync(Uri backend, byte[] body, string? clientAuthorization, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(backend, "chat/completions"))
        {
            Content = new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
        };
        request.Headers.Accept.ParseAdd("text/event-stream");
        Authorize(request, clientAuthorization);
        return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    public Task<HttpResponseMessage> GetAsync(string relativePath, string? clientAuthorization, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, relativePath, body: null, contentType: null, accept: null, clientAuthorization, cancellationToken);

    /// <summary>Any other llama-server route: only the body, its content type, <c>Accept</c> and the key go up.</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string relativePath, byte[]? body, string? contentType, string? accept, string? clientAuthorization, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, relativePath);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.TryParse(contentType, out var type) ? type : new MediaTypeHeaderValue("application/json");
        }

        if (!string.IsNullOrEmpty(accept))
        {
            request.Headers.Accept.TryParseAdd(accept);
        }

        Authorize(request, clientAuthorization);
        return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    private void Authorize(HttpRequestMessage request, string? clientAuthorization)
    {
        // The configured upstream key replaces the client's; without one, the client's key
        // (given only when the proxy checks no keys itself) reaches llama-server so its own
        // --api-key keeps working.
        var key = credentials.ApiKey;
        if (!string.IsNullOrEmpty(key))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        else if (!string.IsNullOrEmpty(clientAuthorization))
        {
            request.Headers.TryAddWithoutValidation("Authorization", clientAuthorization);
        }
    }
}
