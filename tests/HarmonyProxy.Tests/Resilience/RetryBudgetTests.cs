using HarmonyProxy.Tests.Infrastructure;
using LlamaServerSim;

namespace HarmonyProxy.Tests.Resilience;

/// <summary>One retry budget: MaxRetries=N means at most N+1 requests reach llama-server, whatever failed and in which layer, and the summary log says how many.</summary>
public sealed class RetryBudgetTests
{
    private const string Answer = "<|channel|>final<|message|>All good here.";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    public static TheoryData<string> FaultKinds => ["503", "reset", "error event", "stall", "mixed"];

    [Theory]
    [MemberData(nameof(FaultKinds))]
    public async Task EveryTryFails_LlamaServerReceivesMaxRetriesPlusOne(string fault)
    {
        await using var harness = await LoopbackHarness.StartAsync(settings: new()
        {
            ["HarmonyProxy:Upstream:MaxRetries"] = "2",
            // Long enough that a stalled try has surely reached the simulator's handler (and been
            // counted there) before the timeout cancels it, even on a loaded CI machine.
            ["HarmonyProxy:Upstream:FirstByteTimeoutSeconds"] = "1.5",
            ["HarmonyProxy:Upstream:CircuitBreakerMinimumThroughput"] = "1000",
            ["Serilog:MinimumLevel:Default"] = "Information",
        });
        for (var i = 0; i < 12; i++)
        {
            harness.Simulator.Enqueue(Failing(fault, i));
        }

        var summary = harness.Proxy.LogEvents.WhenLogged("CompletionFinished");
        using var response = await harness.Http.PostAsync("/v1/chat/completions", ChatRequest.Body(stream: true));
        await response.Content.ReadAsStringAsync();
        var line = await summary.WaitAsync(Bound);

        Assert.Equal(3, harness.Simulator.ChatRequestCount);
        Assert.Equal("3", line.Properties["UpstreamAttempts"].ToString());
    }

    [Fact]
    public async Task TransientFailuresThenSuccess_TheAttemptsLoggedAreTheRequestsReceived()
    {
        await using var harness = await LoopbackHarness.StartAsync(settings: new()
        {
            ["HarmonyProxy:Upstream:MaxRetries"] = "3",
            ["Serilog:MinimumLevel:Default"] = "Information",
        });
        harness.Simulator.Enqueue(Failing("503", 0), Failing("error event", 1), new SimScript { RawText = Answer });

        var summary = harness.Proxy.LogEvents.WhenLogged("CompletionFinished");
        using var response = await harness.Http.PostAsync("/v1/chat/completions", ChatRequest.Body(stream: true));
        var stream = ClientStream.Parse(await response.Content.ReadAsStringAsync());
        var line = await summary.WaitAsync(Bound);

        Assert.Equal("All good here.", stream.Content);
        Assert.Equal(3, harness.Simulator.ChatRequestCount);
        Assert.Equal("3", line.Properties["UpstreamAttempts"].ToString());
    }

    /// <summary>A fault of the kind; "mixed" alternates those the send pipeline retries with those the attempt loop retries.</summary>
    private static SimScript Failing(string fault, int index) => fault switch
    {
        "503" => new SimScript { FailStatus = 503 },
        "reset" => new SimScript { ResetBeforeFirstByte = true },
        "error event" => new SimScript { RawText = Answer, ErrorAfterTokens = 1, ErrorCode = 503, ErrorMessage = "busy" },
        "stall" => new SimScript { RawText = Answer, StallBeforeFirstToken = TimeSpan.FromMinutes(5) },
        _ => index % 2 == 0 ? new SimScript { FailStatus = 503 } : new SimScript { RawText = Answer, ErrorAfterTokens = 1, ErrorCode = 503, ErrorMessage = "busy" },
    };
}
