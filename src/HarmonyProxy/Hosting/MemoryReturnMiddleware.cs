using HarmonyProxy.Hosting;

namespace Microsoft.AspNetCore.Builder;

/// <summary>The middleware that tells <see cref="MemoryReturn"/> about requests with large bodies.</summary>
internal static class MemoryReturnMiddleware
{
    public static IApplicationBuilder UseMemoryReturnAfterLargeBodies(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var memory = app.ApplicationServices.GetRequiredService<MemoryReturn>();
        return app.Use(async (context, next) =>
        {
            await next(context);
            if (context.Request.ContentLength is >= MemoryReturn.LargeBodyBytes)
            {
                memory.AfterLargeBody();
            }
        });
    }
}
