using Serilog.Context;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// Every request carries an id: the client's <c>X-Request-Id</c> when it is sane (short,
/// printable), a new one otherwise. It becomes the trace identifier, is returned in the
/// response header and is attached to every log event of the request.
/// </summary>
internal static class RequestIdMiddleware
{
    public const string HeaderName = "X-Request-Id";

    public static IApplicationBuilder UseRequestId(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Use(async (context, next) =>
        {
            var requestId = context.Request.Headers[HeaderName].ToString();
            if (!IsSane(requestId))
            {
                requestId = Guid.NewGuid().ToString("N");
            }

            context.TraceIdentifier = requestId;
            // Set when the response starts, so an error written after Response.Clear() keeps it too.
            context.Response.OnStarting(static state =>
            {
                var started = (HttpContext)state;
                started.Response.Headers[HeaderName] = started.TraceIdentifier;
                return Task.CompletedTask;
            }, context);
            using (LogContext.PushProperty("RequestId", requestId))
            {
                await next(context);
            }
        });
    }

    private static bool IsSane(string value) =>
        value.Length is > 0 and <= 128 && value.All(static c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');
}
