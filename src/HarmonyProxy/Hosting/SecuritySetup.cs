using System.Threading.RateLimiting;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.Endpoints;
using HarmonyProxy.Security;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// The door: client keys on the API routes, an optional token on <c>/metrics</c>, per-client
/// rate and concurrency limits, and deliberate Kestrel limits. <c>/healthz</c> and
/// <c>/readyz</c> stay open for probes.
/// </summary>
internal static class SecuritySetup
{
    public static WebApplicationBuilder AddHarmonyProxySecurity(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<ApiKeyRing>();

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // OpenAI clients send small headers; an agent's prompt goes in the body, whose limit
            // is HarmonyProxy:Requests:MaxRequestBodyBytes (enforced per request).
            kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            kestrel.Limits.MaxRequestLineSize = 8 * 1024;
            kestrel.Limits.MaxRequestHeaderCount = 64;
            // A client that trickles its body slower than this is cut (slowloris).
            kestrel.Limits.MinRequestBodyDataRate = new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(10));
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(30);
            kestrel.AddServerHeader = false;
        });

        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                PartitionedRateLimiter.Create<HttpContext, string>(context => RatePartition(context)),
                PartitionedRateLimiter.Create<HttpContext, string>(context => ConcurrencyPartition(context)));
            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var delay) ? delay : TimeSpan.FromSeconds(1);
                await ErrorResults.WriteAsync(rejected.HttpContext, StatusCodes.Status429TooManyRequests,
                    "Too many requests from this client; retry after the delay in Retry-After.", "rate_limit_error", "rate_limited", retryAfter: retryAfter);
                ReportRejection(rejected.HttpContext, CompletionOutcome.Rejected, "rate_limited");
            };
        });
        return builder;
    }

    public static WebApplication UseHarmonyProxySecurity(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var keys = app.Services.GetRequiredService<ApiKeyRing>();
        var options = app.Services.GetRequiredService<IOptions<SecurityOptions>>().Value;
        app.Use(async (context, next) =>
        {
            var path = context.Request.Path;
            if (path.StartsWithSegments("/metrics") && !string.IsNullOrEmpty(options.MetricsBearerToken)
                && !ApiKeyRing.TokenMatches(BearerToken(context.Request.Headers), options.MetricsBearerToken))
            {
                await RejectAsync(context);
                return;
            }

            if (IsApiPath(path) && keys.Enabled && !keys.IsAccepted(ClientCredentials.PresentedKey(context.Request.Headers)))
            {
                await RejectAsync(context);
                return;
            }

            await next(context);
        });
        app.UseRateLimiter();
        return app;
    }

    private static bool IsApiPath(PathString path) =>
        path.StartsWithSegments("/v1") || path.StartsWithSegments("/chat") || path.StartsWithSegments("/responses") || path.StartsWithSegments("/models") || PassThroughApi.NeedsKey(path);

    private static string? BearerToken(IHeaderDictionary headers)
    {
        var authorization = headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization["Bearer ".Length..].Trim() : null;
    }

    private static async Task RejectAsync(HttpContext context)
    {
        await ErrorResults.WriteAsync(context, StatusCodes.Status401Unauthorized, "Invalid or missing API key.", "authentication_error", "invalid_api_key", wwwAuthenticate: "Bearer");
        ReportRejection(context, CompletionOutcome.ClientError, "invalid_api_key");
    }

    /// <summary>A request refused at the edge, before any endpoint: the same ending value as every other, from the same reporter.</summary>
    private static void ReportRejection(HttpContext context, CompletionOutcome outcome, string code) =>
        context.RequestServices.GetRequiredService<CompletionReporter>().Report(context, new CompletionResult
        {
            RequestId = context.TraceIdentifier,
            Endpoint = "edge",
            Outcome = outcome,
            Status = context.Response.StatusCode,
            FailureCode = code,
        });

    /// <summary>Per key when keys are in use, else per IP; probes and metrics are never limited.</summary>
    private static string? ClientPartition(HttpContext context)
    {
        if (!IsApiPath(context.Request.Path))
        {
            return null;
        }

        return ClientCredentials.Identity(context);
    }

    private static RateLimitPartition<string> RatePartition(HttpContext context)
    {
        var perMinute = context.RequestServices.GetRequiredService<IOptions<SecurityOptions>>().Value.RequestsPerMinutePerClient;
        var client = ClientPartition(context);
        if (client is null || perMinute <= 0)
        {
            return RateLimitPartition.GetNoLimiter("unlimited");
        }

        return RateLimitPartition.GetTokenBucketLimiter(client, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = perMinute,
            TokensPerPeriod = perMinute,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }

    private static RateLimitPartition<string> ConcurrencyPartition(HttpContext context)
    {
        var concurrent = context.RequestServices.GetRequiredService<IOptions<SecurityOptions>>().Value.ConcurrentRequestsPerClient;
        var client = ClientPartition(context);
        if (client is null || concurrent <= 0)
        {
            return RateLimitPartition.GetNoLimiter("unlimited");
        }

        return RateLimitPartition.GetConcurrencyLimiter(client, _ => new ConcurrencyLimiterOptions { PermitLimit = concurrent, QueueLimit = 0 });
    }
}
