using System.Net;
using System.Text.Json.Nodes;
using HarmonyProxy.Tests.Infrastructure;
using HarmonyProxy.Upstream;
using LlamaServerSim;
using Microsoft.Extensions.DependencyInjection;

namespace HarmonyProxy.Tests.Upstream;

/// <summary>
/// Several models: gpt-oss-20b on one llama-server and gpt-oss-120b on another, or one
/// llama-server in router mode. A request reaches only a backend that serves its model, an
/// unknown model is a 404 that lists what there is, <c>/v1/models</c> is the union, and
/// <c>/readyz</c> shows each backend's models and their status.
/// </summary>
public sealed class SeveralModelsTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task TwoServers_EachModelsRequests_GoToItsServer()
    {
        await using var servers = await TwoServers.StartAsync();
        var (small, large, http) = (servers.Small, servers.Large, servers.Http);

        for (var i = 0; i < 4; i++)
        {
            (await http.PostAsync("/v1/chat/completions", Chat("gpt-oss-120b", $"task {i}"))).EnsureSuccessStatusCode();
        }

        (await http.PostAsync("/v1/chat/completions", Chat("gpt-oss-20b", "small task"))).EnsureSuccessStatusCode();

        Assert.Equal(4, large.ChatRequestCount);
        Assert.Equal(1, small.ChatRequestCount);
    }

    [Fact]
    public async Task AnUnknownModel_Is404_ModelNotFound_ListingWhatThereIs()
    {
        await using var servers = await TwoServers.StartAsync();
        var (small, large, http) = (servers.Small, servers.Large, servers.Http);

        using var response = await http.PostAsync("/v1/chat/completions", Chat("llama-3-70b", "hi"));
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("model_not_found", error["code"]!.GetValue<string>());
        Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
        Assert.Contains("gpt-oss-20b, gpt-oss-120b", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, small.ChatRequestCount + large.ChatRequestCount);
    }

    [Fact]
    public async Task TheModelList_IsTheUnion()
    {
        await using var servers = await TwoServers.StartAsync();
        var (small, large, http) = (servers.Small, servers.Large, servers.Http);

        var list = JsonNode.Parse(await http.GetStringAsync("/v1/models"))!;

        Assert.Equal("list", list["object"]!.GetValue<string>());
        Assert.Equal(["gpt-oss-20b", "gpt-oss-120b"], list["data"]!.AsArray().Select(model => model!["id"]!.GetValue<string>()));
        Assert.All(list["data"]!.AsArray(), model => Assert.Equal("model", model!["object"]!.GetValue<string>()));
    }

    [Fact]
    public async Task OneServerOfOneModel_TakesAnyModelName_AsLlamaServerDoes()
    {
        await using var harness = await LoopbackHarness.StartAsync();
        await ModelsKnownAsync(harness.Proxy, 1);

        using var response = await harness.Http.PostAsync("/v1/chat/completions", Chat("whatever-my-ide-calls-it", "hi"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, harness.Simulator.ChatRequestCount);
    }

    [Fact]
    public async Task Router_AnUnloadedModel_IsAvailable_AndReadyzShowsEachModelsStatus()
    {
        await using var router = await LlamaServerSimulator.StartAsync(new SimulatorOptions { RouterModels = ["gpt-oss-20b", "gpt-oss-120b"] });
        router.SetModelStatus("gpt-oss-120b", "sleeping");
        await using var proxy = new HarmonyProxyApplication(new() { ["HarmonyProxy:Upstream:ReadinessCache"] = "00:00:00" }, realUpstream: router.BaseAddress);
        using var http = proxy.CreateClient();
        await ModelsKnownAsync(proxy, 2);

        using var readyz = await http.GetAsync("/readyz");
        var models = JsonNode.Parse(await readyz.Content.ReadAsStringAsync())!["checks"]!["upstream"]!["models"]![router.BaseAddress.Authority]!;
        using var answer = await http.PostAsync("/v1/chat/completions", Chat("gpt-oss-120b", "hi"));
        using var unknown = await http.PostAsync("/v1/chat/completions", Chat("qwen3", "hi"));

        Assert.Equal(HttpStatusCode.OK, readyz.StatusCode);
        Assert.Equal("loaded", models["gpt-oss-20b"]!.GetValue<string>());
        Assert.Equal("sleeping", models["gpt-oss-120b"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("gpt-oss-120b", router.Requests.Single()["model"]!.GetValue<string>());
        Assert.Equal("loaded", router.ModelStatus("gpt-oss-120b"));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Router_PropsPassedThrough_NamesAModel()
    {
        await using var router = await LlamaServerSimulator.StartAsync(new SimulatorOptions { RouterModels = ["gpt-oss-20b", "gpt-oss-120b"] });
        await using var proxy = new HarmonyProxyApplication(realUpstream: router.BaseAddress);
        using var http = proxy.CreateClient();
        await ModelsKnownAsync(proxy, 2);

        using var first = await http.GetAsync("/props");
        using var named = await http.GetAsync("/props?model=gpt-oss-120b");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("gpt-oss-20b", JsonNode.Parse(await first.Content.ReadAsStringAsync())!["model_alias"]!.GetValue<string>());
        Assert.Equal("gpt-oss-120b", JsonNode.Parse(await named.Content.ReadAsStringAsync())!["model_alias"]!.GetValue<string>());
    }

    /// <summary>gpt-oss-20b on one llama-server, gpt-oss-120b on another, the proxy in front once it knows both.</summary>
    private sealed class TwoServers(LlamaServerSimulator small, LlamaServerSimulator large, HarmonyProxyApplication proxy) : IAsyncDisposable
    {
        public LlamaServerSimulator Small => small;

        public LlamaServerSimulator Large => large;

        public HttpClient Http { get; } = proxy.CreateClient();

        public static async Task<TwoServers> StartAsync()
        {
            var small = await LlamaServerSimulator.StartAsync(new SimulatorOptions { Model = "gpt-oss-20b" });
            var large = await LlamaServerSimulator.StartAsync(new SimulatorOptions { Model = "gpt-oss-120b" });
            var proxy = new HarmonyProxyApplication(
                new()
                {
                    ["HarmonyProxy:Upstream:Backends:0"] = new Uri(small.BaseAddress, "/v1").ToString(),
                    ["HarmonyProxy:Upstream:Backends:1"] = new Uri(large.BaseAddress, "/v1").ToString(),
                },
                realUpstream: small.BaseAddress);
            var servers = new TwoServers(small, large, proxy);
            await ModelsKnownAsync(proxy, 2);
            return servers;
        }

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await proxy.DisposeAsync();
            await large.DisposeAsync();
            await small.DisposeAsync();
        }
    }

    /// <summary>Waits (a handshake with the pool, never a sleep) until the backends' model lists name <paramref name="count"/> models.</summary>
    private static async Task ModelsKnownAsync(HarmonyProxyApplication proxy, int count)
    {
        var pool = proxy.Services.GetRequiredService<BackendPool>();
        var known = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Check()
        {
            if (pool.ServedModels().Count >= count)
            {
                known.TrySetResult();
            }
        }

        pool.ModelsChanged += Check;
        try
        {
            Check();
            await known.Task.WaitAsync(Bound);
        }
        finally
        {
            pool.ModelsChanged -= Check;
        }
    }

    private static StringContent Chat(string model, string text) =>
        new($$"""{"model":"{{model}}","messages":[{"role":"user","content":"{{text}}"}]}""", System.Text.Encoding.UTF8, "application/json");
}
