using HarmonyProxy.Diagnostics;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// Every request leaves one summary line: request id, method, route, status and duration. A
/// chat completion writes its own, richer line (<c>CompletionFinished</c>) and marks the request
/// with its result (<see cref="ICompletionResultFeature"/>); every other request (the model list, the routes
/// passed through, rejections before the handler) gets <c>RequestFinished</c> here. Probes and
/// scrapes (<c>/metrics</c>, <c>/healthz</c>, <c>/readyz</c>) log at Debug.
/// </summary>
internal static class RequestSummaryLogging
{
    private const int MaxLoggedPathChars = 100;

    public static IApplicationBuilder UseRequestSummary(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("HarmonyProxy.Requests");
        var time = app.ApplicationServices.GetRequiredService<TimeProvider>();
        return app.Use(async (context, next) =>
        {
            var started = time.GetTimestamp();
            var failed = false;
            try
            {
                await next(context);
            }
            catch
            {
                failed = true;
                throw;
            }
            finally
            {
                if (!CompletionReporter.WroteSummaryLine(context))
                {
                    var level = ProbeRoutes.IsProbe(context.Request.Path) ? LogLevel.Debug : LogLevel.Information;
                    if (logger.IsEnabled(level))
                    {
                        Log.RequestFinished(logger, level, context.TraceIdentifier, context.Request.Method, Route(context),
                            failed ? StatusCodes.Status500InternalServerError : context.Response.StatusCode, Math.Round(time.GetElapsedTime(started).TotalMilliseconds, 1));
                    }
                }
            }
        });
    }

    /// <summary>The route pattern that served the request (low cardinality), else the path, cut short.</summary>
    private static string Route(HttpContext context)
    {
        // The 404 fallback's catch-all pattern says nothing; its path does.
        if (context.GetEndpoint() is RouteEndpoint { RoutePattern.RawText: { } pattern } && !pattern.StartsWith("{*", StringComparison.Ordinal))
        {
            return pattern;
        }

        var path = context.Request.Path.Value ?? "/";
        return path.Length <= MaxLoggedPathChars ? path : path[..MaxLoggedPathChars] + "…";
    }
}
