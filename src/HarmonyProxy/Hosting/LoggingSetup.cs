using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace Microsoft.AspNetCore.Builder;

internal static class LoggingSetup
{
    /// <summary>
    /// Serilog as the only sink: compact JSON lines by default (containers), readable text in
    /// Development or with <c>HarmonyProxy:Logging:Format=text</c>; levels from the
    /// <c>Serilog:MinimumLevel</c> section or <c>LOG_LEVEL</c>. No bootstrap logger: it clashes
    /// with several WebApplicationFactory hosts (serilog-aspnetcore #289).
    /// </summary>
    public static WebApplicationBuilder AddHarmonyProxyLogging(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var format = builder.Configuration["HarmonyProxy:Logging:Format"]
            ?? (builder.Environment.IsDevelopment() ? "text" : "json");

        builder.Services.AddSerilog((services, logger) =>
        {
            // ReadFrom.Services picks up sinks registered in DI (tests capture events that way).
            logger.ReadFrom.Services(services).Enrich.FromLogContext();
            ApplyMinimumLevels(logger, builder.Configuration.GetSection("Serilog:MinimumLevel"));
            // The console is written by a background thread: a slow log collector must never
            // hold up a request thread, least of all a socket thread (TransportSetup).
            if (string.Equals(format, "text", StringComparison.OrdinalIgnoreCase))
            {
                // The trace id ends every line, as it is in every JSON line (@tr).
                logger.WriteTo.Async(sink => sink.Console(
                    outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj} {TraceId}{NewLine}{Exception}",
                    formatProvider: System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                logger.WriteTo.Async(sink => sink.Console(new CompactJsonFormatter()));
            }
        }, preserveStaticLogger: true); // each host keeps its own logger (tests run many hosts at once)
        return builder;
    }

    /// <summary>
    /// The levels of Serilog's <c>MinimumLevel</c> section (<c>Default</c> and per-source
    /// <c>Override</c>s, or the section as one level), read here rather than by
    /// Serilog.Settings.Configuration, whose sink discovery scans assemblies by reflection, which
    /// the Native AOT build does not have. Sinks are the proxy's own (console) or come from DI.
    /// </summary>
    private static void ApplyMinimumLevels(LoggerConfiguration logger, IConfigurationSection section)
    {
        var defaultLevel = section.GetSection("Default");
        if (Level(defaultLevel.Value is not null ? defaultLevel : section) is { } level)
        {
            logger.MinimumLevel.Is(level);
        }

        foreach (var source in section.GetSection("Override").GetChildren())
        {
            if (Level(source) is { } sourceLevel)
            {
                logger.MinimumLevel.Override(source.Key, sourceLevel);
            }
        }
    }

    private static LogEventLevel? Level(IConfigurationSection setting) => setting.Value switch
    {
        null or "" => null,
        var value when Enum.TryParse<LogEventLevel>(value, ignoreCase: true, out var level) && Enum.IsDefined(level) => level,
        var value => throw new InvalidOperationException(
            $"{setting.Path} must be one of Verbose, Debug, Information, Warning, Error, Fatal; got '{value}'."),
    };
}
