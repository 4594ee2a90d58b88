using System.Net;
using System.Text.Json.Nodes;
using HarmonyProxy.Tests.Infrastructure;
using LlamaServerSim;
using Serilog.Events;

namespace HarmonyProxy.Tests.Diagnostics;

/// <summary>Readiness with evidence from llama-server's <c>/health</c> and <c>/props</c>, and the lines that tell an operator whether the setup is right.</summary>
public sealed class UpstreamSetupTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static readonly Dictionary<string, string?> Probing = new()
    {
        ["HarmonyProxy:Upstream:ReadinessCacheSeconds"] = "0",
        ["Serilog:MinimumLevel:Default"] = "Information",
    };

    [Fact]
    public async Task Readyz_WhileTheModelLoads_IsNotReady_ThenReadyWithTheSetupInAMetric()
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Parsed, new(Probing));
        harness.Simulator.Options = harness.Simulator.Options with { Ready = false };

        var (loadingStatus, loading) = await ReadyzAsync(harness);
        harness.Simulator.Options = harness.Simulator.Options with { Ready = true };
        var (readyStatus, ready) = await ReadyzAsync(harness);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, loadingStatus);
        Assert.Contains("loading the model", loading, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, readyStatus);
        Assert.Contains("/props", ready, StringComparison.Ordinal);
        Assert.Equal(1, await harness.Proxy.MetricAsync("""harmony_proxy_upstream_info{build="b6865-1c1409e13",model="gpt-oss-20b",n_ctx="8192",slots="4"}"""));
        Assert.Equal(0, await harness.Proxy.MetricAsync("harmony_proxy_upstream_chat_template_mismatch"));
        Assert.Equal(1, await harness.Proxy.MetricAsync("harmony_proxy_upstream_ready"));

        var lines = harness.Proxy.LogEvents.Named("UpstreamFound");
        Assert.Equal(2, lines.Count);
        Assert.Contains("loading the model", Property(lines[0], "UpstreamState"), StringComparison.Ordinal);
        Assert.Equal("b6865-1c1409e13", Property(lines[1], "Build"));
        Assert.Equal("yes", Property(lines[1], "GptOssTemplate"));
        Assert.Equal("4", Property(lines[1], "Slots"));
        Assert.Equal("8192", Property(lines[1], "ContextSize"));
    }

    [Fact]
    public async Task Readyz_SameSetup_IsLoggedOnce_AChangeAgain()
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Parsed, new(Probing));

        await ReadyzAsync(harness);
        await ReadyzAsync(harness);
        harness.Simulator.Options = harness.Simulator.Options with { TotalSlots = 8 };
        await ReadyzAsync(harness);

        var lines = harness.Proxy.LogEvents.Named("UpstreamFound");
        Assert.Equal(2, lines.Count);
        Assert.Equal("8", Property(lines[1], "Slots"));
        Assert.Equal(0, await harness.Proxy.MetricAsync("""harmony_proxy_upstream_info{build="b6865-1c1409e13",model="gpt-oss-20b",n_ctx="8192",slots="4"}"""));
        Assert.Equal(1, await harness.Proxy.MetricAsync("""harmony_proxy_upstream_info{build="b6865-1c1409e13",model="gpt-oss-20b",n_ctx="8192",slots="8"}"""));
    }

    [Fact]
    public async Task ChatTemplateThatIsNotGptOss_RaisesTheWarningMetricAndLogsAWarning()
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Parsed, new(Probing));
        harness.Simulator.Options = harness.Simulator.Options with { ChatTemplate = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>{% endfor %}" };

        var (status, _) = await ReadyzAsync(harness);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1, await harness.Proxy.MetricAsync("harmony_proxy_upstream_chat_template_mismatch"));
        var warning = Assert.Single(harness.Proxy.LogEvents.Named("UpstreamTemplateMismatch"));
        Assert.Equal(LogEventLevel.Warning, warning.Level);
        Assert.Equal("NO", Property(Assert.Single(harness.Proxy.LogEvents.Named("UpstreamFound")), "GptOssTemplate"));
    }

    [Fact]
    public async Task BuildWithoutProps_FallsBackToTheModelList()
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Raw, new(Probing));
        harness.Simulator.Options = harness.Simulator.Options with { PropsAvailable = false };

        var (status, body) = await ReadyzAsync(harness);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("/v1/models", body, StringComparison.Ordinal);
        Assert.Equal("unknown", Property(Assert.Single(harness.Proxy.LogEvents.Named("UpstreamFound")), "GptOssTemplate"));
    }

    [Fact]
    public async Task StartupReport_LogsTheSetupWithoutAnyProbeFromOutside()
    {
        var settings = new Dictionary<string, string?>(Probing) { ["HarmonyProxy:Upstream:StartupReport"] = "true" };
        await using var simulator = await LlamaServerSimulator.StartAsync(new SimulatorOptions { Flavour = SimFlavour.Parsed });
        await using var proxy = new HarmonyProxyApplication(settings, realUpstream: simulator.BaseAddress);
        var found = proxy.LogEvents.WhenLogged("UpstreamFound");

        _ = proxy.ServerAddress;
        var line = await found.WaitAsync(Bound);

        Assert.StartsWith("llama-server is ready", Property(line, "UpstreamState"), StringComparison.Ordinal);
        Assert.Equal("gpt-oss-20b", Property(line, "UpstreamModel"));
        Assert.Equal("yes", Property(line, "GptOssTemplate"));
        Assert.Equal(simulator.BaseAddress.GetLeftPart(UriPartial.Authority), Property(line, "Upstream"));
    }

    [Fact]
    public async Task StartupReport_WhileTheModelLoads_ProbesAgainUntilReady()
    {
        var settings = new Dictionary<string, string?>(Probing)
        {
            ["HarmonyProxy:Upstream:StartupReport"] = "true",
            ["HarmonyProxy:Upstream:MaxRetries"] = "0",
        };
        var time = new TimerSignallingTimeProvider(TimeSpan.FromSeconds(1));
        await using var simulator = await LlamaServerSimulator.StartAsync(new SimulatorOptions { Flavour = SimFlavour.Parsed, Ready = false });
        await using var proxy = new HarmonyProxyApplication(settings, realUpstream: simulator.BaseAddress) { Time = time };
        var loading = proxy.LogEvents.WhenLogged("UpstreamFound");
        var ready = proxy.LogEvents.WhenLogged("UpstreamFound", e => Property(e, "UpstreamState").StartsWith("llama-server is ready", StringComparison.Ordinal));

        _ = proxy.ServerAddress;
        Assert.Contains("loading the model", Property(await loading.WaitAsync(Bound), "UpstreamState"), StringComparison.Ordinal);
        simulator.Options = simulator.Options with { Ready = true };
        await time.WhenTimerStartedAsync().WaitAsync(Bound);
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal("b6865-1c1409e13", Property(await ready.WaitAsync(Bound), "Build"));
        Assert.Equal(2, proxy.LogEvents.Named("UpstreamFound").Count);
    }

    [Theory]
    [InlineData(SimFlavour.Raw, "raw")]
    [InlineData(SimFlavour.Stripped, "stripped")]
    [InlineData(SimFlavour.Parsed, "parsed")]
    public async Task FirstCompletion_LogsTheFlavourOnce(SimFlavour flavour, string expected)
    {
        await using var harness = await LoopbackHarness.StartAsync(flavour, new(Probing));
        var secondFinished = harness.Proxy.LogEvents.WhenLogged("CompletionFinished", _ => harness.Proxy.LogEvents.Named("CompletionFinished").Count >= 2);

        for (var i = 0; i < 2; i++)
        {
            using var response = await harness.Http.PostAsync("/v1/chat/completions", ChatRequest.Body(stream: true));
            await response.Content.ReadAsStringAsync();
        }

        await secondFinished.WaitAsync(Bound);
        Assert.Equal(expected, Property(Assert.Single(harness.Proxy.LogEvents.Named("UpstreamFirstResponse")), "Flavour"));
    }

    private static async Task<(HttpStatusCode Status, string Description)> ReadyzAsync(LoopbackHarness harness)
    {
        using var response = await harness.Http.GetAsync("/readyz");
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return (response.StatusCode, body["checks"]!["upstream"]!["description"]!.GetValue<string>());
    }

    private static string Property(LogEvent e, string name) => e.Properties[name] switch
    {
        ScalarValue { Value: string text } => text,
        var value => value.ToString(),
    };
}
