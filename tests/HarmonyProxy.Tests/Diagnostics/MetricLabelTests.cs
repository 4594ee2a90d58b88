using System.Net;
using System.Text;
using HarmonyProxy.Tests.Infrastructure;

namespace HarmonyProxy.Tests.Diagnostics;

/// <summary>No string a client chooses becomes a metric label value: the series stay bounded whatever is sent.</summary>
public sealed class MetricLabelTests
{
    [Fact]
    public async Task MadeUpMethodsPathsModelsAndHeaders_NeverBecomeLabelValues()
    {
        await using var app = new HarmonyProxyApplication();
        app.Upstream.RespondWithStream(LlamaChunks.RawStream(Samples.ToolCall));
        var client = app.CreateClient();
        var seriesBefore = Series(await client.GetStringAsync("/metrics"));

        for (var i = 0; i < 20; i++)
        {
            using var made = new HttpRequestMessage(new HttpMethod($"ZQ{i:00000}"), "/v1/chat/completions");
            using var madeResponse = await client.SendAsync(made);
            Assert.Equal(HttpStatusCode.NotFound, madeResponse.StatusCode);
            using var elsewhere = new HttpRequestMessage(new HttpMethod($"ZQ{i:00000}"), $"/zqpath{i}");
            using var elsewhereResponse = await client.SendAsync(elsewhere);
            Assert.Equal(HttpStatusCode.NotFound, elsewhereResponse.StatusCode);
        }

        using var chat = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"zqmodel","user":"zquser","stream":true,"messages":[{"role":"user","content":"zqprompt"}],"tools":[{"type":"function","function":{"name":"zqtool"}}]}""", Encoding.UTF8, "application/json"),
        };
        chat.Headers.Add("User-Agent", "zqagent/1.0");
        chat.Headers.Add("X-Title", "zqtitle");
        using var chatResponse = await client.SendAsync(chat);
        await chatResponse.Content.ReadAsStringAsync();
        using var responses = await client.PostAsync("/v1/responses", new StringContent("""{"model":"zqmodel","input":"zq","tools":[{"type":"zqhosted"}]}""", Encoding.UTF8, "application/json"));

        var metrics = await client.GetStringAsync("/metrics");
        Assert.DoesNotContain("zq", metrics, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("method=\"OTHER\"", metrics, StringComparison.Ordinal);
        // 40 requests with 40 made-up methods add the series of one method, not of forty.
        Assert.InRange(Series(metrics) - seriesBefore, 1, 200);
    }

    private static int Series(string metrics) => metrics.Split('\n').Count(line => line.Length > 0 && line[0] != '#');
}
