using System.Net;
using HarmonyProxy.Upstream;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

internal static class UpstreamServiceCollectionExtensions
{
    /// <summary>
    /// The typed client to llama-server with a proxy's handler settings (YARP's
    /// ForwarderHttpClientFactory): no proxy, no redirects, no decompression, no cookies. The
    /// client timeout is infinite: a generation may stream for many minutes, and idle and
    /// total limits are enforced per request instead.
    /// </summary>
    public static IHttpClientBuilder AddUpstreamClient(this IServiceCollection services)
    {
        services.AddSingleton<UpstreamBreakerState>();
        var client = services
            .AddHttpClient<UpstreamClient>(UpstreamClient.ClientName)
            .ConfigureHttpClient((provider, client) =>
            {
                var options = provider.GetRequiredService<IOptions<UpstreamOptions>>().Value;
                client.BaseAddress = options.ApiBaseUri();
                client.Timeout = Timeout.InfiniteTimeSpan;
            })
            .ConfigurePrimaryHttpMessageHandler(provider =>
            {
                var options = provider.GetRequiredService<IOptions<UpstreamOptions>>().Value;
                return new SocketsHttpHandler
                {
                    UseProxy = false,
                    AllowAutoRedirect = false,
                    AutomaticDecompression = DecompressionMethods.None,
                    UseCookies = false,
                    ConnectTimeout = options.ConnectTimeout,
                    PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
                    EnableMultipleHttp2Connections = true,
                };
            });

        // HttpClient's own trace logging prints header values, the upstream key among them;
        // the proxy logs what matters itself (Diagnostics/Log.cs).
        client.RemoveAllLoggers();

        // Circuit breaker and first-byte timeout around send-until-headers, never a retry (the
        // forwarder's is the one). One pipeline per backend (by authority), so each llama-server
        // has its own circuit breaker.
        client.AddResilienceHandler(UpstreamResilience.PipelineName, (pipeline, context) =>
            UpstreamResilience.Configure(
                pipeline,
                context.ServiceProvider.GetRequiredService<IOptions<UpstreamOptions>>().Value,
                context.ServiceProvider.GetRequiredService<UpstreamBreakerState>()))
            .SelectPipelineByAuthority();
        return client;
    }
}
