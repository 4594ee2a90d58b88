using HarmonyProxy.Forwarding;
using HarmonyProxy.Upstream;
using Microsoft.Extensions.Options;

namespace HarmonyProxy.Tests.Forwarding;

/// <summary>
/// The one retry decision and the one retry strategy: what follows each failure, and the bound
/// MaxRetries=N puts on what llama-server receives (at most N+1 requests), whatever failed, in
/// whatever order, recoveries and moves included.
/// </summary>
public sealed class RetryDecisionTests
{
    private static readonly RetryFacts Fresh = new(UpstreamErrorKind.Transient, CircuitOpen: false, OutputStarted: false, RetriesLeft: 2, AnotherBackend: false, CanReparseRaw: true, CanRepairHistory: true);

    private static readonly Dictionary<string, (RetryFacts Facts, RetryAction Expected)> Table = new()
    {
        ["transient, one backend: the same again"] = (Fresh, RetryAction.Resend),
        ["transient, another backend: move"] = (Fresh with { AnotherBackend = true }, RetryAction.AnotherBackend),
        ["breaker open, one backend: stop"] = (Fresh with { CircuitOpen = true }, RetryAction.Stop),
        ["breaker open, another backend: move"] = (Fresh with { CircuitOpen = true, AnotherBackend = true }, RetryAction.AnotherBackend),
        ["parser failure: raw re-parse"] = (Fresh with { Kind = UpstreamErrorKind.ParseFailure }, RetryAction.RawReparse),
        ["parser failure again: stop"] = (Fresh with { Kind = UpstreamErrorKind.ParseFailure, CanReparseRaw = false, AnotherBackend = true }, RetryAction.Stop),
        ["template history: repair"] = (Fresh with { Kind = UpstreamErrorKind.TemplateHistory }, RetryAction.HistoryRepair),
        ["template history, nothing to repair: stop"] = (Fresh with { Kind = UpstreamErrorKind.TemplateHistory, CanRepairHistory = false }, RetryAction.Stop),
        ["deterministic: stop"] = (Fresh with { Kind = UpstreamErrorKind.Deterministic, AnotherBackend = true }, RetryAction.Stop),
        ["after output: stop"] = (Fresh with { OutputStarted = true, AnotherBackend = true }, RetryAction.Stop),
        ["after output, parser failure: stop"] = (Fresh with { OutputStarted = true, Kind = UpstreamErrorKind.ParseFailure }, RetryAction.Stop),
        ["after reasoning only, parser failure: continue"] = (Fresh with { OutputStarted = true, Kind = UpstreamErrorKind.ParseFailure, CanContinue = true }, RetryAction.Continue),
        ["after reasoning only, transient: stop"] = (Fresh with { OutputStarted = true, CanContinue = true, AnotherBackend = true }, RetryAction.Stop),
        ["after reasoning only, budget spent: stop"] = (Fresh with { OutputStarted = true, Kind = UpstreamErrorKind.ParseFailure, CanContinue = true, RetriesLeft = 0 }, RetryAction.Stop),
        ["budget spent: stop"] = (Fresh with { RetriesLeft = 0, AnotherBackend = true }, RetryAction.Stop),
        ["budget spent, parser failure: stop"] = (Fresh with { RetriesLeft = 0, Kind = UpstreamErrorKind.ParseFailure }, RetryAction.Stop),
    };

    public static TheoryData<string> Decisions => [.. Table.Keys];

    [Theory]
    [MemberData(nameof(Decisions))]
    public void Decide(string because) =>
        Assert.Equal(Table[because].Expected, RetryDecision.Decide(Table[because].Facts));

    /// <summary>
    /// Fault sequences as the forwarder meets them (each failure's kind, what is left to try) and
    /// the requests llama-server receives with MaxRetries=2, one backend or two.
    /// </summary>
    public static TheoryData<string, int, int, bool> FaultSequences()
    {
        var data = new TheoryData<string, int, int, bool>();
        foreach (var (sequence, backends, requests, answered) in new[]
        {
            ("503,503,parse", 1, 3, false),
            ("reset,parse", 1, 3, true),
            ("parse,503,reset", 1, 3, false),
            ("parse", 1, 2, true),
            ("parse,parse,parse,parse", 1, 2, false),
            ("template,parse,503", 1, 3, false),
            ("template,parse", 1, 3, true),
            ("busy,busy,busy,busy", 1, 3, false),
            ("open,open", 1, 1, false),
            ("open,503", 2, 3, true),
            ("reset,reset,reset,reset", 2, 3, false),
            ("400", 2, 1, false),
            ("ok", 1, 1, true),
        })
        {
            data.Add(sequence, backends, requests, answered);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(FaultSequences))]
    public async Task AFaultSequence_ReachesLlamaServerAtMostMaxRetriesPlusOneTimes(string sequence, int backends, int requests, bool answered)
    {
        var retry = Retry(maxRetries: 2);
        var faults = sequence.Split(',');
        var run = new SimulatedRun(faults, backends, retry.MaxRetries);

        var outcome = await retry.ExecuteAsync(static (_, run) => run.AttemptAsync(), run.Decide, run, CancellationToken.None);

        Assert.Equal(requests, run.Sent);
        Assert.Equal(answered, outcome.End == AttemptEnd.Completed);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    public async Task ADecisionThatNeverStops_IsStillBoundedByMaxRetries(int maxRetries)
    {
        var retry = Retry(maxRetries);
        var sent = 0;
        var actions = new[] { RetryAction.Resend, RetryAction.AnotherBackend, RetryAction.RawReparse, RetryAction.HistoryRepair };

        var outcome = await retry.ExecuteAsync(
            (_, _) => { sent++; return ValueTask.FromResult(new AttemptOutcome(AttemptEnd.Broken, UpstreamFailure.StreamEnded())); },
            (_, attempt) => actions[attempt % actions.Length],
            0,
            CancellationToken.None);

        Assert.Equal(maxRetries + 1, sent);
        Assert.Equal(AttemptEnd.Broken, outcome.End);
    }

    private static ForwarderRetry Retry(int maxRetries) =>
        new(Options.Create(new UpstreamOptions { MaxRetries = maxRetries, RetryBackoff = TimeSpan.Zero }), TimeProvider.System);

    /// <summary>The forwarder's side of the sequence: each attempt meets the next fault; the facts are what it would know.</summary>
    private sealed class SimulatedRun(string[] faults, int backends, int maxRetries)
    {
        private readonly HashSet<int> _failedBackends = [];
        private int _backend;
        private bool _rawTried;
        private bool _repairTried;

        public int Sent { get; private set; }

        public ValueTask<AttemptOutcome> AttemptAsync()
        {
            var fault = Sent < faults.Length ? faults[Sent] : "ok";
            Sent++;
            var outcome = fault switch
            {
                "ok" => AttemptOutcome.Completed,
                "503" => Broken(UpstreamErrorKind.Transient),
                "reset" => Broken(UpstreamErrorKind.Transient),
                "busy" => Broken(UpstreamErrorKind.Transient),
                "open" => new AttemptOutcome(AttemptEnd.Broken, UpstreamFailure.Unreachable(".")) { CircuitOpen = true },
                "parse" => Broken(UpstreamErrorKind.ParseFailure),
                "template" => Broken(UpstreamErrorKind.TemplateHistory),
                _ => Broken(UpstreamErrorKind.Deterministic),
            };
            return ValueTask.FromResult(outcome);
        }

        public RetryAction Decide(AttemptOutcome outcome, int attempt)
        {
            if (outcome.End != AttemptEnd.Broken)
            {
                return RetryAction.Stop;
            }

            _failedBackends.Add(_backend);
            var action = RetryDecision.Decide(new RetryFacts(
                outcome.Failure!.Kind, outcome.CircuitOpen, OutputStarted: false, maxRetries - attempt, _failedBackends.Count < backends, !_rawTried, !_repairTried));
            _rawTried |= action == RetryAction.RawReparse;
            _repairTried |= action == RetryAction.HistoryRepair;
            if (action == RetryAction.AnotherBackend)
            {
                _backend++;
            }

            return action;
        }

        private static AttemptOutcome Broken(UpstreamErrorKind kind) =>
            new(AttemptEnd.Broken, new UpstreamFailure(502, "failed", "upstream_error", "upstream_error", Kind: kind));
    }
}
