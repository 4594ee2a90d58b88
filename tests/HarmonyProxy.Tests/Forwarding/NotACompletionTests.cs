using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using HarmonyProxy.Tests.Infrastructure;
using LlamaServerSim;

namespace HarmonyProxy.Tests.Forwarding;

/// <summary>
/// A 200 whose body is no completion (a proxy's HTML error page, SSE whose data is not JSON) is
/// an upstream failure: retried within the budget, then a 502 in OpenAI's shape; never an empty
/// success.
/// </summary>
public sealed class NotACompletionTests
{
    private const string Answer = "<|channel|>final<|message|>All good here.";

    public static TheoryData<string, bool> Bodies => new()
    {
        { "html", true },
        { "html", false },
        { "sse not json", true },
        { "sse not json", false },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task EveryTryNotACompletion_Is502_AfterMaxRetriesPlusOne(string body, bool stream)
    {
        await using var harness = await LoopbackHarness.StartAsync(settings: new() { ["HarmonyProxy:Upstream:MaxRetries"] = "2" });
        for (var i = 0; i < 6; i++)
        {
            harness.Simulator.Enqueue(NotACompletion(body));
        }

        using var response = await harness.Http.PostAsync("/v1/chat/completions", ChatRequest.Body(stream));
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("upstream_not_a_completion", error["code"]!.GetValue<string>());
        Assert.Equal(3, harness.Simulator.ChatRequestCount);
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task OneTryNotACompletion_IsRetried_AndTheAnswerArrives(string body, bool stream)
    {
        await using var harness = await LoopbackHarness.StartAsync();
        harness.Simulator.Enqueue(NotACompletion(body), new SimScript { RawText = Answer });

        using var response = await harness.Http.PostAsync("/v1/chat/completions", ChatRequest.Body(stream));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var content = stream ? ClientStream.Parse(text).Content : JsonNode.Parse(text)!["choices"]![0]!["message"]!["content"]!.GetValue<string>();
        Assert.Equal("All good here.", content);
        Assert.Equal(2, harness.Simulator.ChatRequestCount);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Responses_NotACompletion_Is502_NotAnEmptyCompletedResponse(bool stream)
    {
        await using var harness = await LoopbackHarness.StartAsync(settings: new() { ["HarmonyProxy:Upstream:MaxRetries"] = "0" });
        harness.Simulator.Enqueue(NotACompletion("html"));

        using var response = await harness.Http.PostAsync("/v1/responses", ResponsesStream.Body($$"""{"model":"gpt-oss-20b","input":"hi","stream":{{(stream ? "true" : "false")}}}"""));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("upstream_not_a_completion", JsonNode.Parse(text)!["error"]!["code"]!.GetValue<string>());
    }

    private static SimScript NotACompletion(string body) => body == "html"
        ? new SimScript { RawBody = "<html><body>502 proxy error page</body></html>"u8.ToArray(), RawContentType = "text/html" }
        : new SimScript { RawBody = Encoding.UTF8.GetBytes("data: <html>\n\ndata: not json either\n\ndata: [DONE]\n\n"), RawContentType = "text/event-stream" };
}
