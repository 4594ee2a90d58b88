using HarmonyProxy.Diagnostics;
using HarmonyProxy.Endpoints;
using HarmonyProxy.Inspector;
using HarmonyProxy.Wire;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// The request inspector (<c>/ui</c>): every API request is kept in a bounded ring with its
/// traffic (<see cref="RequestTrace"/>, the request's <see cref="ITrafficRecorder"/>), and
/// <c>/ui</c> shows it, to loopback only unless <c>Inspector:Token</c> is set. Off
/// (<c>Inspector:Enabled=false</c>): nothing is kept and <c>/ui</c> is a 404.
/// </summary>
internal static class InspectorSetup
{
    public static WebApplicationBuilder AddHarmonyProxyInspector(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<InspectorRing>();
        builder.Services.AddSingleton<Redactor>();
        return builder;
    }

    public static WebApplication UseHarmonyProxyInspector(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<IOptions<InspectorOptions>>().Value;
        var ring = app.Services.GetRequiredService<InspectorRing>();
        app.Use(async (context, next) =>
        {
            var path = context.Request.Path;
            if (path.StartsWithSegments("/ui"))
            {
                await GuardAsync(context, next, options);
                return;
            }

            if (!options.Enabled || ProbeRoutes.IsProbe(path) || path.StartsWithSegments("/metrics"))
            {
                await next(context);
                return;
            }

            var trace = ring.Begin(context.TraceIdentifier, context.Request.Method, path.Value ?? "/");
            context.Features.Set<ITrafficRecorder>(trace);
            try
            {
                await next(context);
            }
            finally
            {
                trace.Ended(context.Response.StatusCode);
            }
        });
        return app;
    }

    /// <summary>The inspector's own routes: there only when on, and only to those it may show prompts to.</summary>
    private static async Task GuardAsync(HttpContext context, RequestDelegate next, InspectorOptions options)
    {
        if (!options.Enabled)
        {
            await ErrorResults.WriteAsync(context, StatusCodes.Status404NotFound, "The inspector is off (Inspector:Enabled).", OpenAiError.InvalidRequest, "not_found");
            return;
        }

        if (InspectorAccess.Allows(context, options.Token) || (context.Request.Path.StartsWithSegments("/ui/login") && !string.IsNullOrEmpty(options.Token)))
        {
            await next(context);
            return;
        }

        if (string.IsNullOrEmpty(options.Token))
        {
            await ErrorResults.WriteAsync(context, StatusCodes.Status403Forbidden, "The inspector shows prompts and answers, so it opens only from loopback; set Inspector:Token to open it from elsewhere.", "permission_error", "inspector_loopback_only");
        }
        else if (context.Request.Path.StartsWithSegments("/ui/api"))
        {
            await ErrorResults.WriteAsync(context, StatusCodes.Status401Unauthorized, "The inspector needs its token (Authorization: Bearer, or the login form at /ui).", "authentication_error", "inspector_token_required", wwwAuthenticate: "Bearer");
        }
        else
        {
            await InspectorApi.LoginPageAsync(context);
        }
    }
}
