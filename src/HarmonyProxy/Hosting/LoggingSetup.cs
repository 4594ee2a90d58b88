using Serilog;
using Serilog.Formatting.Compact;

namespace Microsoft.AspNetCore.Builder;

internal static class LoggingSetup
{
    /// <summary>
    /// Serilog as the only sink: compact JSON lines by default (containers), readable text in
    /// Development or with <c>HarmonyProxy:Logging:Format=text</c>; levels from the
    /// <c>Serilog</c> section or <c>LOG_LEVEL</c>. No bootstrap logger: it clashes with
    /// several WebApplicationFactory hosts (serilog-aspnetcore #289).
    /// </summary>
    public static WebApplicationBuilder AddHarmonyProxyLogging(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var format = builder.Configuration["HarmonyProxy:Logging:Format"]
            ?? (builder.Environment.IsDevelopment() ? "text" : "json");

        builder.Services.AddSerilog((services, logger) =>
        {
            // ReadFrom.Services picks up sinks registered in DI (tests capture events that way).
            logger.ReadFrom.Configuration(builder.Configuration)
                .ReadFrom.Services(services)
                .Enrich.FromLogContext();
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
}
