using System.Net.Sockets;
using HarmonyProxy.Completions;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.Tests.Infrastructure;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace HarmonyProxy.Tests.Diagnostics;

/// <summary>The one classification of how a request ended, as a table; and the labels each outcome takes.</summary>
public sealed class CompletionOutcomeTests
{
    private static readonly Dictionary<string, (CompletionEnding Facts, CompletionOutcome Outcome, string Label)> Table = new()
    {
        ["connection refused"] = (Ending(new HttpRequestException("refused", new SocketException(111))), CompletionOutcome.UpstreamUnreachable, "upstream_error"),
        ["breaker open"] = (Ending(new BrokenCircuitException()), CompletionOutcome.CircuitOpen, "upstream_error"),
        ["no headers in time"] = (Ending(new TimeoutRejectedException()), CompletionOutcome.FirstByteTimeout, "upstream_error"),
        ["503 loading model"] = (Ending(status: 503), CompletionOutcome.UpstreamStatus, "upstream_error"),
        ["400 context overflow"] = (Ending(status: 400), CompletionOutcome.UpstreamStatus, "upstream_error"),
        ["error event before output"] = (Ending(afterHeaders: true), CompletionOutcome.BrokeBeforeOutput, "upstream_error"),
        ["connection lost after output"] = (Ending(new IOException("reset"), afterHeaders: true, outputStarted: true), CompletionOutcome.BrokeAfterOutput, "upstream_error"),
        ["idle watchdog"] = (Ending(new OperationCanceledException(), watchdog: WatchdogKind.Idle, afterHeaders: true, outputStarted: true), CompletionOutcome.IdleTimeout, "watchdog"),
        ["hidden reasoning only"] = (Ending(new OperationCanceledException(), watchdog: WatchdogKind.NoVisibleOutput, afterHeaders: true), CompletionOutcome.NoVisibleOutput, "watchdog"),
        ["total ceiling"] = (Ending(new OperationCanceledException(), watchdog: WatchdogKind.Total), CompletionOutcome.TotalTimeout, "watchdog"),
        ["reasoning loop"] = (Ending(new OperationCanceledException(), watchdog: WatchdogKind.ReasoningLoop, afterHeaders: true), CompletionOutcome.ReasoningLoop, "watchdog"),
        ["drain over"] = (Ending(new OperationCanceledException(), watchdog: WatchdogKind.Shutdown, afterHeaders: true), CompletionOutcome.ShuttingDown, "watchdog"),
        ["client gone, whatever else"] = (Ending(new OperationCanceledException(), watchdog: WatchdogKind.Idle, clientGone: true), CompletionOutcome.ClientAborted, "client_cancelled"),
    };

    public static TheoryData<string> Endings => [.. Table.Keys];

    [Theory]
    [MemberData(nameof(Endings))]
    public void AnEnding_HasOneOutcome_AndItsMetricLabel(string ending)
    {
        var (facts, outcome, label) = Table[ending];

        Assert.Equal(outcome, CompletionOutcomes.Classify(facts));
        Assert.Equal(label, outcome.MetricLabel());
    }

    [Fact]
    public async Task TheSummaryLine_NamesTheOutcome_TheMetricKeepsItsCoarseLabel()
    {
        var down = new Uri($"http://127.0.0.1:{RedisServer.FreePort()}");
        await using var app = new HarmonyProxyApplication(new()
        {
            ["Serilog:MinimumLevel:Default"] = "Information",
            ["HarmonyProxy:Upstream:MaxRetries"] = "0",
        }, realUpstream: down);

        using var response = await app.CreateClient().PostAsync("/v1/chat/completions", ChatRequest.Body(stream: false));
        var summary = await app.LogEvents.WhenLogged("CompletionFinished").WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(System.Net.HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("\"upstream_unreachable\"", summary.Properties["Outcome"].ToString());
        Assert.Equal(1, await app.MetricAsync("""harmony_proxy_requests_total{endpoint="chat_completions",stream="false",outcome="upstream_error"}"""));
    }

    [Fact]
    public void EveryOutcome_HasItsOwnName()
    {
        var names = Enum.GetValues<CompletionOutcome>().Select(outcome => outcome.Name()).ToList();

        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.All(names, name => Assert.Matches("^[a-z_]+$", name));
    }

    private static CompletionEnding Ending(Exception? exception = null, int? status = null, WatchdogKind watchdog = WatchdogKind.None, bool clientGone = false, bool afterHeaders = false, bool outputStarted = false) =>
        new(exception, status, watchdog, clientGone, afterHeaders, outputStarted);
}
