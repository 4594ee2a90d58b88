using HarmonyProxy.Tests.Infrastructure;
using Serilog.Events;

namespace HarmonyProxy.Tests.Diagnostics;

/// <summary>
/// Serilog's <c>MinimumLevel</c> section, read by the proxy itself (the Native AOT build has no
/// Serilog.Settings.Configuration): the default, a per-source override, and a clear refusal of a
/// level that does not exist.
/// </summary>
public sealed class LogLevelTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Override_LowersOneSource_BelowTheDefault()
    {
        using var app = new HarmonyProxyApplication(new()
        {
            ["Serilog:MinimumLevel:Default"] = "Warning",
            ["Serilog:MinimumLevel:Override:HarmonyProxy.Requests"] = "Debug",
        });
        var logged = app.LogEvents.WhenLogged("RequestFinished");

        using var response = await app.CreateClient().GetAsync(new Uri("/healthz", UriKind.Relative));
        var line = await logged.WaitAsync(Bound);

        Assert.Equal(LogEventLevel.Debug, line.Level);
        Assert.DoesNotContain(app.LogEvents.Events, e => e.Level < LogEventLevel.Warning && !Equals(e.Properties["SourceContext"], new ScalarValue("HarmonyProxy.Requests")));
    }

    [Fact]
    public void UnknownLevel_RefusesToStart_NamingTheSetting()
    {
        using var app = new HarmonyProxyApplication(new() { ["Serilog:MinimumLevel:Override:Polly"] = "Loud" });

        var failure = Assert.ThrowsAny<Exception>(() => app.CreateClient());

        var messages = string.Join('\n', Chain(failure).Select(e => e.Message));
        Assert.Contains("Serilog:MinimumLevel:Override:Polly must be one of Verbose, Debug, Information, Warning, Error, Fatal; got 'Loud'.", messages, StringComparison.Ordinal);
    }

    private static IEnumerable<Exception> Chain(Exception? exception)
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            yield return exception;
        }
    }
}
