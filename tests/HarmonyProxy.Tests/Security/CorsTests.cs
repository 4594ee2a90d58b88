using System.Net;
using HarmonyProxy.Tests.Infrastructure;

namespace HarmonyProxy.Tests.Security;

public sealed class CorsTests
{
    private const string Allowed = "https://chat.example.com";

    [Fact]
    public async Task Off_ByDefault_NoCorsHeaders()
    {
        await using var app = new HarmonyProxyApplication();
        app.Upstream.RespondWithStream(LlamaChunks.RawStream(Samples.AnalysisThenFinal));

        using var preflight = await SendAsync(app, Preflight(Allowed));
        using var post = await SendAsync(app, Post(Allowed));

        Assert.False(preflight.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.False(post.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task ConfiguredOrigin_GetsPreflightAndHeaders_EvenWithKeysRequired()
    {
        await using var app = new HarmonyProxyApplication(new()
        {
            ["HarmonyProxy:Cors:AllowedOrigins:0"] = Allowed,
            ["HarmonyProxy:Security:ApiKeys:0"] = "sk-team",
        });
        app.Upstream.RespondWithStream(LlamaChunks.RawStream(Samples.AnalysisThenFinal));

        using var preflight = await SendAsync(app, Preflight(Allowed));
        var post = Post(Allowed);
        post.Headers.TryAddWithoutValidation("Authorization", "Bearer sk-team");
        using var served = await SendAsync(app, post);

        Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
        Assert.Equal(Allowed, preflight.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("POST", preflight.Headers.GetValues("Access-Control-Allow-Methods").Single(), StringComparison.Ordinal);
        Assert.Contains("authorization", preflight.Headers.GetValues("Access-Control-Allow-Headers").Single(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(Allowed, served.Headers.GetValues("Access-Control-Allow-Origin").Single());
    }

    [Fact]
    public async Task OtherOrigin_GetsNoCorsHeaders()
    {
        await using var app = new HarmonyProxyApplication(new() { ["HarmonyProxy:Cors:AllowedOrigins:0"] = Allowed });
        app.Upstream.RespondWithStream(LlamaChunks.RawStream(Samples.AnalysisThenFinal));

        using var preflight = await SendAsync(app, Preflight("https://evil.example.net"));
        using var post = await SendAsync(app, Post("https://evil.example.net"));

        Assert.False(preflight.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.False(post.Headers.Contains("Access-Control-Allow-Origin"));
    }

    private static HttpRequestMessage Preflight(string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, "/v1/chat/completions");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "authorization,content-type,x-stainless-os");
        return request;
    }

    private static HttpRequestMessage Post(string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"messages":[{"role":"user","content":"hi"}]}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Origin", origin);
        return request;
    }

    private static async Task<HttpResponseMessage> SendAsync(HarmonyProxyApplication app, HttpRequestMessage request)
    {
        using (request)
        {
            return await app.CreateClient().SendAsync(request);
        }
    }
}
