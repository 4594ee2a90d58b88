using Serilog;
using Serilog.Formatting.Compact;

namespace Microsoft.AspNetCore.Builder;

public static class LoggingSetup
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
            if (string.Equals(format, "text", StringComparison.OrdinalIgnoreCase))
            {
                logger.WriteTo.Console(formatProvider: System.Globalization.CultureInfo.InvariantCulture);
            }
            else
            {
                logger.WriteTo.Console(new CompactJsonFormatter());
            }
        }, preserveStaticLogger: true); // each host keeps its own logger (tests run many hosts at once)
        return builder;
    }
}
