using System.Net;
using HarmonyProxy.Tests.Infrastructure;
using HarmonyProxy.Upstream;
using LlamaServerSim;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace HarmonyProxy.Tests.Upstream;

/// <summary>Several simulator backends behind one proxy on loopback: affinity, bounded load, ejection and return, failover, slot caps from <c>/props</c>.</summary>
public sealed class MultiBackendTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task AConversation_StaysOnOneBackend_AndConversationsSpread()
    {
        await using var backends = await Backends.StartAsync(3);
        await using var proxy = backends.Proxy();
        using var http = proxy.CreateClient();

        for (var i = 0; i < 6; i++)
        {
            await PostAsync(http, session: "kilo-task-1");
        }

        var sticky = backends.Simulators.Count(s => s.ChatRequestCount > 0);
        for (var i = 0; i < 24; i++)
        {
            await PostAsync(http, session: $"task-{i}");
        }

        Assert.Equal(1, sticky);
        Assert.Equal(3, backends.Simulators.Count(s => s.ChatRequestCount > 0));
        Assert.Equal(30, await proxy.MetricAsync("harmony_proxy_affinity_total{result=\"hit\"}"));
        Assert.All(backends.Simulators.SelectMany(s => s.Requests), request => Assert.True(request["cache_prompt"]!.GetValue<bool>()));
    }

    [Fact]
    public async Task PromptCacheKey_OrTheStablePrefix_KeepsAConversationTogether()
    {
        await using var backends = await Backends.StartAsync(3);
        await using var proxy = backends.Proxy();
        using var http = proxy.CreateClient();

        // The same conversation growing: system prompt and first user message stay.
        const string Start = """{"role":"system","content":"You are a coding agent."},{"role":"user","content":"Fix the bug."}""";
        await PostAsync(http, messages: $"[{Start}]");
        await PostAsync(http, messages: $$"""[{{Start}},{"role":"assistant","content":"Done?"},{"role":"user","content":"Not yet."}]""");
        await PostAsync(http, messages: $$"""[{{Start}},{"role":"assistant","content":"Done?"},{"role":"user","content":"Not yet."},{"role":"assistant","content":"Now?"},{"role":"user","content":"Yes."}]""");

        Assert.Single(backends.Simulators, s => s.ChatRequestCount == 3);
    }

    [Fact]
    public async Task AFullBackend_SendsTheConversationToAFreeOne_RatherThanQueueing()
    {
        await using var backends = await Backends.StartAsync(2);
        await using var proxy = backends.Proxy(new() { ["HarmonyProxy:Upstream:SlotsPerBackend"] = "1" });
        using var http = proxy.CreateClient();
        using var release = new SemaphoreSlim(0);
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        foreach (var simulator in backends.Simulators)
        {
            simulator.Enqueue(new SimScript
            {
                Gate = async (token, cancellation) =>
                {
                    // Only the first request to get here is held; the other goes through.
                    if (token == 2 && holding.TrySetResult())
                    {
                        await release.WaitAsync(cancellation);
                    }
                },
            });
        }

        var first = PostAsync(http, session: "one-conversation");
        await holding.Task.WaitAsync(Bound);
        var busy = backends.Simulators.Single(s => s.ChatRequestCount == 1);
        await PostAsync(http, session: "one-conversation");
        release.Release(10);
        await first.WaitAsync(Bound);

        Assert.Equal(1, busy.ChatRequestCount);
        Assert.Equal(1, backends.Simulators.Single(s => s != busy).ChatRequestCount);
        Assert.Equal(1, await proxy.MetricAsync("harmony_proxy_affinity_total{result=\"miss\"}"));
    }

    [Fact]
    public async Task ABackendAnsweringHtmlWith200_IsEjected_AndTheRequestMovesToAnother()
    {
        await using var backends = await Backends.StartAsync(2);
        var broken = backends.Simulators[0];
        broken.Enqueue(new SimScript { RawBody = "<html>proxy error page</html>"u8.ToArray(), RawContentType = "text/html" });
        await using var proxy = backends.Proxy();
        using var http = proxy.CreateClient();

        // Conversations until one lands on the broken backend first.
        for (var i = 0; broken.ChatRequestCount == 0; i++)
        {
            Assert.True(i < 40, "no conversation was mapped to the first backend");
            using var response = await PostAsync(http, session: $"task-{i}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("assistant", System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!["choices"]![0]!["message"]!["role"]!.GetValue<string>());
        }

        Assert.Equal(1, await proxy.MetricAsync($"harmony_proxy_backend_ejections_total{{backend=\"{broken.BaseAddress.Authority}\"}}"));
        Assert.Equal(1, await proxy.MetricAsync("harmony_proxy_upstream_retries_total{reason=\"another_backend\"}"));
    }

    [Fact]
    public async Task AHungBackend_FailsItsHealthProbe_IsSetAside_AndTheRequestsWaitingOnItMove()
    {
        await using var backends = await Backends.StartAsync(1);
        // Accepts connections (the kernel's backlog) and never answers a byte: /health included.
        using var hung = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        hung.Start();
        var hungName = $"127.0.0.1:{((IPEndPoint)hung.LocalEndpoint).Port}";
        await using var proxy = backends.Proxy(new()
        {
            ["HarmonyProxy:Upstream:ReadinessTimeoutSeconds"] = "1",
            ["HarmonyProxy:Upstream:BackendProbeSeconds"] = "0.5",
            ["Serilog:MinimumLevel:Default"] = "Information",
        }, extraBackends: [$"http://{hungName}/v1"]);
        using var http = proxy.CreateClient();

        // Sixteen conversations at once: some map to the hung backend and wait there (the
        // first-byte timeout is 600 s) until its probe fails; then they move.
        var responses = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => PostAsync(http, session: $"task-{i}"))).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.All(responses, response => Assert.Equal(HttpStatusCode.OK, response.StatusCode));
        Assert.Equal(16, backends.Simulators[0].ChatRequestCount);
        Assert.True(await proxy.MetricAsync("harmony_proxy_upstream_retries_total{reason=\"another_backend\"}") >= 1);
        Assert.True(await proxy.MetricAsync($"harmony_proxy_backend_ejections_total{{backend=\"{hungName}\"}}") >= 1);
        Assert.NotEmpty(proxy.LogEvents.Named("BackendEjectedByProbe"));
        Assert.Contains(proxy.LogEvents.Named("UpstreamMovedToAnotherBackend"), e => e.Properties["Reason"].ToString().Contains("health_probe_failed", StringComparison.Ordinal));
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task ABackendThatIsDown_IsEjected_AndItsRequestsMoveToAnother()
    {
        await using var backends = await Backends.StartAsync(1);
        var dead = $"http://127.0.0.1:{RedisServer.FreePort()}/v1";
        await using var proxy = backends.Proxy(extraBackends: [dead]);
        using var http = proxy.CreateClient();

        for (var i = 0; i < 8; i++)
        {
            using var response = await PostAsync(http, session: $"task-{i}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // Set aside by its first health probe, or by the one request that reached it first and moved.
        Assert.Equal(8, backends.Simulators[0].ChatRequestCount);
        var deadName = new Uri(dead).Authority;
        Assert.True(await proxy.MetricAsync($"harmony_proxy_backend_ejections_total{{backend=\"{deadName}\"}}") >= 1);
        Assert.InRange(await proxy.MetricAsync("harmony_proxy_upstream_retries_total{reason=\"another_backend\"}"), 0, 1);
    }

    [Fact]
    public async Task AnEjectedBackend_ReturnsAfterItsBackOff()
    {
        await using var backends = await Backends.StartAsync(2);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var proxy = backends.Proxy(new() { ["HarmonyProxy:Upstream:BackendProbeSeconds"] = "3600" }, time: time);
        using var http = proxy.CreateClient();
        var (session, preferred, movedAway) = await EjectPreferredBackendAsync(http, backends);
        var countWhileEjected = preferred.ChatRequestCount;
        using var stillAway = await PostAsync(http, session);
        preferred.Options = preferred.Options with { Ready = true };
        time.Advance(TimeSpan.FromSeconds(2));
        using var back = await PostAsync(http, session);

        Assert.Equal(HttpStatusCode.OK, movedAway);
        Assert.Equal(HttpStatusCode.OK, stillAway.StatusCode);
        Assert.Equal(countWhileEjected, preferred.ChatRequestCount - 1);
        Assert.Equal(HttpStatusCode.OK, back.StatusCode);
    }

    [Fact]
    public async Task AnEjectedBackend_ReturnsAsSoonAsItsHealthAnswers()
    {
        await using var backends = await Backends.StartAsync(2);
        await using var proxy = backends.Proxy(new() { ["HarmonyProxy:Upstream:BackendProbeSeconds"] = "3600" });
        using var http = proxy.CreateClient();
        var (session, preferred, _) = await EjectPreferredBackendAsync(http, backends);
        var pool = proxy.Services.GetRequiredService<BackendPool>();
        var monitor = proxy.Services.GetServices<IHostedService>().OfType<BackendMonitor>().Single();
        var ejected = pool.Backends.Single(b => b.Name == preferred.BaseAddress.Authority);

        await monitor.ProbeAsync(ejected, readProps: false, CancellationToken.None);
        var stillEjected = ejected.EjectedUntil > 0;
        preferred.Options = preferred.Options with { Ready = true };
        await monitor.ProbeAsync(ejected, readProps: false, CancellationToken.None);
        var before = preferred.ChatRequestCount;
        using var back = await PostAsync(http, session);

        Assert.True(stillEjected);
        Assert.Equal(0, ejected.EjectedUntil);
        Assert.Equal(before + 1, preferred.ChatRequestCount);
        Assert.Equal(HttpStatusCode.OK, back.StatusCode);
    }

    [Fact]
    public async Task SlotCaps_AreReadFromEachBackendsProps()
    {
        await using var backends = await Backends.StartAsync(2, totalSlots: [3, 5]);
        await using var proxy = backends.Proxy(new() { ["HarmonyProxy:Upstream:BackendProbeSeconds"] = "3600" });
        var pool = proxy.Services.GetRequiredService<BackendPool>();
        var monitor = proxy.Services.GetServices<IHostedService>().OfType<BackendMonitor>().Single();

        foreach (var backend in pool.Backends)
        {
            await monitor.ProbeAsync(backend, readProps: true, CancellationToken.None);
        }

        Assert.Equal([3, 5], pool.Backends.Select(b => b.TotalSlots));
        Assert.Equal(3, await proxy.MetricAsync($"harmony_proxy_backend_slots{{backend=\"{pool.Backends[0].Name}\"}}"));
        Assert.Equal(5, await proxy.MetricAsync($"harmony_proxy_backend_slots{{backend=\"{pool.Backends[1].Name}\"}}"));
    }

    [Fact]
    public async Task Readyz_IsReadyWhileAnyBackendIs()
    {
        await using var backends = await Backends.StartAsync(2);
        await using var proxy = backends.Proxy(new() { ["HarmonyProxy:Upstream:ReadinessCacheSeconds"] = "0" });
        using var http = proxy.CreateClient();
        backends.Simulators[0].Options = backends.Simulators[0].Options with { Ready = false };

        using var oneReady = await http.GetAsync("/readyz");
        backends.Simulators[1].Options = backends.Simulators[1].Options with { Ready = false };
        using var noneReady = await http.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, oneReady.StatusCode);
        Assert.Contains(backends.Simulators[1].BaseAddress.Authority, await oneReady.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, noneReady.StatusCode);
    }

    [Fact]
    public async Task BackendsFromADnsName_AreItsAddresses_ResolvedByYarp()
    {
        await using var backends = await Backends.StartAsync(1);
        var port = backends.Simulators[0].BaseAddress.Port;
        await using var proxy = new HarmonyProxyApplication(new()
        {
            ["HarmonyProxy:Upstream:BackendsDns"] = $"http://localhost:{port}/v1",
            ["Serilog:MinimumLevel:Default"] = "Information",
        }, realUpstream: backends.Simulators[0].BaseAddress);
        using var http = proxy.CreateClient();

        var discovered = await proxy.LogEvents.WhenLogged("BackendsDiscovered").WaitAsync(Bound);
        using var response = await PostAsync(http, session: "dns");

        Assert.Contains($"127.0.0.1:{port}", discovered.RenderMessage(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"127.0.0.1:{port}", Assert.Single(proxy.Services.GetRequiredService<BackendPool>().Backends).Name);
        Assert.Equal(1, await proxy.MetricAsync($"harmony_proxy_backend_requests_total{{backend=\"127.0.0.1:{port}\"}}"));
    }

    /// <summary>
    /// A session whose preferred backend is the first simulator, which then starts answering
    /// 503 "Loading model": the next request of the session is ejected from it and moves on.
    /// </summary>
    private static async Task<(string Session, LlamaServerSimulator Preferred, HttpStatusCode MovedAway)> EjectPreferredBackendAsync(HttpClient http, Backends backends)
    {
        var preferred = backends.Simulators[0];
        var session = await SessionLandingOnAsync(http, backends, preferred);
        preferred.Options = preferred.Options with { Ready = false };
        using var movedAway = await PostAsync(http, session);
        return (session, preferred, movedAway.StatusCode);
    }

    /// <summary>A session key that the pool sends to <paramref name="target"/> while every backend is healthy.</summary>
    private static async Task<string> SessionLandingOnAsync(HttpClient http, Backends backends, LlamaServerSimulator target)
    {
        for (var i = 0; i < 64; i++)
        {
            var before = target.ChatRequestCount;
            using var response = await PostAsync(http, session: $"probe-{i}");
            if (target.ChatRequestCount > before)
            {
                return $"probe-{i}";
            }
        }

        throw new InvalidOperationException($"No key among 64 landed on {target.BaseAddress}; {backends.Simulators.Count} backends.");
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient http, string? session = null, string messages = ChatRequest.Hi)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = ChatRequest.Body(stream: false, messages) };
        if (session is not null)
        {
            request.Headers.Add("x-session-affinity", session);
        }

        var response = await http.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    private sealed class Backends : IAsyncDisposable
    {
        private Backends(List<LlamaServerSimulator> simulators) => Simulators = simulators;

        public List<LlamaServerSimulator> Simulators { get; }

        public static async Task<Backends> StartAsync(int count, int[]? totalSlots = null)
        {
            var simulators = new List<LlamaServerSimulator>();
            for (var i = 0; i < count; i++)
            {
                simulators.Add(await LlamaServerSimulator.StartAsync(new SimulatorOptions { TotalSlots = totalSlots?[i] ?? 4 }));
            }

            return new Backends(simulators);
        }

        public HarmonyProxyApplication Proxy(Dictionary<string, string?>? settings = null, IEnumerable<string>? extraBackends = null, TimeProvider? time = null)
        {
            var all = new Dictionary<string, string?>(settings ?? []);
            var urls = Simulators.Select(s => new Uri(s.BaseAddress, "/v1").ToString()).Concat(extraBackends ?? []).ToList();
            for (var i = 0; i < urls.Count; i++)
            {
                all[$"HarmonyProxy:Upstream:Backends:{i}"] = urls[i];
            }

            return new HarmonyProxyApplication(all, realUpstream: Simulators[0].BaseAddress) { Time = time };
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var simulator in Simulators)
            {
                await simulator.DisposeAsync();
            }
        }
    }
}
