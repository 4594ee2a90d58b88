using System.Collections.Concurrent;
using Serilog.Core;
using Serilog.Events;

namespace HarmonyProxy.Tests.Infrastructure;

/// <summary>A Serilog sink that keeps every event (picked up through ReadFrom.Services).</summary>
internal sealed class LogEventCollector : ILogEventSink
{
    private readonly ConcurrentQueue<LogEvent> _events = new();

    public IReadOnlyCollection<LogEvent> Events => _events;

    public void Emit(LogEvent logEvent) => _events.Enqueue(logEvent);

    /// <summary>Everything a log store would hold: rendered messages and every property value.</summary>
    public string AllText() => string.Join('\n', _events.Select(e =>
        e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture) + " " + string.Join(' ', e.Properties.Values.Select(value => value.ToString()))));
}
