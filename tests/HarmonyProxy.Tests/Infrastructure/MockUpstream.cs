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

    public const string HealthUrl = "http://llama.test/health";
    public const string PropsUrl = "http://llama.test/props";

    /// <summary>llama-server's readiness routes: <c>/health</c> and <c>/props</c> both answer <paramref name="status"/> (a loaded gpt-oss server for 200).</summary>
    public static void RespondToReadiness(this MockHttpMessageHandler upstream, HttpStatusCode status = HttpStatusCode.OK)
    {
        upstream.When(HttpMethod.Get, HealthUrl).Respond(status, "application/json", status == HttpStatusCode.OK ? """{"status":"ok"}""" : """{"error":{"message":"x","type":"x","code":1}}""");
        upstream.When(HttpMethod.Get, PropsUrl).Respond(status, "application/json", status == HttpStatusCode.OK ? """{"total_slots":2,"build_info":"b9000-test","model_alias":"gpt-oss-20b","chat_template":"<|start|>assistant<|channel|>final<|message|>","default_generation_settings":{"n_ctx":4096}}""" : "{}");
    }
}
