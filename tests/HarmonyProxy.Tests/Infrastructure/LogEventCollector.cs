using System.Collections.Concurrent;
using Serilog.Core;
using Serilog.Events;

namespace HarmonyProxy.Tests.Infrastructure;

/// <summary>A Serilog sink that keeps every event (picked up through ReadFrom.Services).</summary>
internal sealed class LogEventCollector : ILogEventSink
{
    private readonly ConcurrentQueue<LogEvent> _events = new();
    private readonly ConcurrentQueue<(Func<LogEvent, bool> Match, TaskCompletionSource<LogEvent> Logged)> _waiters = new();

    public IReadOnlyCollection<LogEvent> Events => _events;

    public void Emit(LogEvent logEvent)
    {
        _events.Enqueue(logEvent);
        foreach (var (match, logged) in _waiters)
        {
            if (match(logEvent))
            {
                logged.TrySetResult(logEvent);
            }
        }
    }

    /// <summary>Completes with the first event (already logged or still to come) named <paramref name="eventName"/> that passes <paramref name="where"/>.</summary>
    public Task<LogEvent> WhenLogged(string eventName, Func<LogEvent, bool>? where = null)
    {
        bool Match(LogEvent e) => Named(e, eventName) && (where?.Invoke(e) ?? true);
        var logged = new TaskCompletionSource<LogEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiters.Enqueue((Match, logged));
        if (_events.FirstOrDefault(Match) is { } earlier)
        {
            logged.TrySetResult(earlier);
        }

        return logged.Task;
    }

    /// <summary>Every event named <paramref name="eventName"/> (the source-generated log method's name).</summary>
    public IReadOnlyList<LogEvent> Named(string eventName) => _events.Where(e => Named(e, eventName)).ToList();

    /// <summary>Everything a log store would hold: rendered messages and every property value.</summary>
    public string AllText() => string.Join('\n', _events.Select(e =>
        e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture) + " " + string.Join(' ', e.Properties.Values.Select(value => value.ToString()))));

    private static bool Named(LogEvent e, string eventName) =>
        e.Properties.TryGetValue("EventId", out var id) && id is StructureValue structure
        && structure.Properties.Any(p => p.Name == "Name" && p.Value is ScalarValue { Value: string name } && name == eventName);
}
