using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using RichardSzalay.MockHttp;

namespace HarmonyProxy.Tests.Infrastructure;

internal static class MockUpstream
{
    /// <summary>Answers chat completions with an SSE body and records each request body.</summary>
    public static List<JsonObject> RespondWithStream(this MockHttpMessageHandler upstream, IEnumerable<string> events)
    {
        var received = new List<JsonObject>();
        var body = LlamaChunks.Sse(events);
        upstream.When(HttpMethod.Post, HarmonyProxyApplication.UpstreamBase + "/chat/completions").Respond(async request =>
        {
            received.Add(JsonNode.Parse(await request.Content!.ReadAsStringAsync())!.AsObject());
            return new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent(body, Encoding.UTF8, "text/event-stream"),
            };
        });
        return received;
    }

    public static void RespondWithError(this MockHttpMessageHandler upstream, HttpStatusCode status, string body, TimeSpan? retryAfter = null)
    {
        upstream.When(HttpMethod.Post, HarmonyProxyApplication.UpstreamBase + "/chat/completions").Respond(_ =>
        {
            var response = new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            if (retryAfter is { } delay)
            {
                response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(delay);
            }

            return response;
        });
    }
}
