using HarmonyProxy.Tests.Infrastructure;
using LlamaServerSim;

namespace HarmonyProxy.Tests.Forwarding;

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

    /// <summary>
    /// Fault sequences (then answers), how many requests llama-server receives with MaxRetries=2,
    /// and whether the answer arrives. The first three once reached it four times: a semantic
    /// recovery now spends the same budget as every other resend.
    /// </summary>
    public static TheoryData<string, int, bool, bool> FaultSequences()
    {
        var data = new TheoryData<string, int, bool, bool>();
        foreach (var (sequence, requests, answered) in new[]
        {
            ("503,503,parse event", 3, false),
            ("reset,parse event", 3, true),
            ("parse event,503,reset", 3, false),
            ("parse event", 2, true),
            ("503,parse event", 3, true),
            ("parse event,parse event,parse event,parse event", 2, false),
            ("busy event,busy event,busy event", 3, false),
            ("busy event,parse event,503,reset", 3, false),
            ("503,busy event,parse event", 3, false),
            ("reset,reset,reset,reset", 3, false),
        })
        {
            data.Add(sequence, requests, answered, true);
            data.Add(sequence, requests, answered, false);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(FaultSequences))]
    public async Task AnyFaultSequence_LlamaServerReceivesAtMostMaxRetriesPlusOne(string sequence, int requests, bool answered, bool stream)
    {
        await using var harness = await LoopbackHarness.StartAsync(settings: new()
        {
            ["HarmonyProxy:Upstream:MaxRetries"] = "2",
            ["HarmonyProxy:Upstream:CircuitBreakerMinimumThroughput"] = "1000",
            ["Serilog:MinimumLevel:Default"] = "Information",
        });
        harness.Simulator.Enqueue([.. sequence.Split(',').Select(Fault), new SimScript { RawText = Answer }, new SimScript { RawText = Answer }]);

        var summary = harness.Proxy.LogEvents.WhenLogged("CompletionFinished");
        using var response = await harness.Http.PostAsync("/v1/chat/completions", ChatRequest.Body(stream));
        var text = await response.Content.ReadAsStringAsync();
        var line = await summary.WaitAsync(Bound);

        Assert.Equal(requests, harness.Simulator.ChatRequestCount);
        Assert.Equal(requests.ToString(System.Globalization.CultureInfo.InvariantCulture), line.Properties["UpstreamAttempts"].ToString());
        var content = !response.IsSuccessStatusCode ? null
            : stream ? ClientStream.Parse(text).Content
            : System.Text.Json.Nodes.JsonNode.Parse(text)!["choices"]![0]!["message"]!["content"]?.GetValue<string>();
        Assert.Equal(answered, content == "All good here.");
    }

    private static SimScript Fault(string fault) => fault switch
    {
        "parse event" => new SimScript { RawText = Answer, ErrorAfterTokens = 1, ErrorMessage = "Failed to parse input at pos 55" },
        "busy event" => new SimScript { RawText = Answer, ErrorAfterTokens = 1, ErrorCode = 503, ErrorMessage = "busy" },
        _ => Failing(fault, 0),
    };

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
