using HarmonyProxy.Security;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// CORS for browser-based clients, off by default: with <c>Cors:AllowedOrigins</c> set, exactly
/// those origins get preflight answers and <c>Access-Control-Allow-*</c> headers (any method and
/// header, for OpenAI SDKs' <c>Authorization</c> and <c>x-stainless-*</c>); other origins get
/// none, so the browser refuses them. Runs before the key check: a preflight carries no key.
/// </summary>
internal static class CorsSetup
{
    private const string PolicyName = "HarmonyProxyOrigins";

    public static WebApplicationBuilder AddHarmonyProxyCors(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddCors();
        builder.Services.AddOptions<CorsOptions>().Configure<IOptions<CrossOriginOptions>>((cors, origins) => cors.AddPolicy(PolicyName, policy => policy
            .WithOrigins(origins.Value.Origins())
            .AllowAnyMethod()
            .AllowAnyHeader()
            .WithExposedHeaders("X-Request-Id", "Retry-After")
            .SetPreflightMaxAge(TimeSpan.FromHours(1))));
        return builder;
    }

    public static WebApplication UseHarmonyProxyCors(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.Services.GetRequiredService<IOptions<CrossOriginOptions>>().Value.Origins().Length > 0)
        {
            app.UseCors(PolicyName);
        }

        return app;
    }
}
