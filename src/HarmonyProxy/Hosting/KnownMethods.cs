namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// A method outside HTTP's standard set becomes <c>OTHER</c> before anything records it (as
/// OpenTelemetry's semantic conventions do), so a client making up methods cannot add a metric
/// series or a log value per method. No route serves such a method, so nothing else changes: the
/// request still gets its 404 or 405.
/// </summary>
internal static class KnownMethods
{
    public const string Other = "OTHER";

    public static IApplicationBuilder UseKnownMethods(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            if (!IsKnown(context.Request.Method))
            {
                context.Request.Method = Other;
            }

            return next(context);
        });

    public static bool IsKnown(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsPost(method) || HttpMethods.IsHead(method) || HttpMethods.IsPut(method)
        || HttpMethods.IsDelete(method) || HttpMethods.IsPatch(method) || HttpMethods.IsOptions(method)
        || HttpMethods.IsTrace(method) || HttpMethods.IsConnect(method);
}
