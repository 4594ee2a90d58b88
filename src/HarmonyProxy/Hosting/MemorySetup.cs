using HarmonyProxy.Configuration;
using HarmonyProxy.Memory;
using HarmonyProxy.Preparation;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Microsoft.AspNetCore.Builder;

internal static class MemorySetup
{
    /// <summary>
    /// What the proxy keeps for clients between requests: one bounded store (in this process, or
    /// Redis with <c>ReasoningMemory:Redis</c>) for the reasoning memory and stored responses, and
    /// the Data Protection keys that seal reasoning for the Responses API (a mounted
    /// <c>Responses:KeysDirectory</c>, else Redis, else ASP.NET Core's per-user folder). Replicas
    /// must share both, or a blob or an entry written by one is unknown to the others.
    /// </summary>
    public static WebApplicationBuilder AddHarmonyProxyMemory(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var redis = StartupSettings.ReasoningMemory(builder.Configuration).Redis;
        var keysDirectory = StartupSettings.Responses(builder.Configuration).KeysDirectory;
        var dataProtection = builder.Services.AddDataProtection().SetApplicationName("HarmonyProxy");

        if (string.IsNullOrWhiteSpace(redis))
        {
            builder.Services.AddSingleton<IConversationStore, InProcessConversationStore>();
        }
        else
        {
            // One connection for the store and the keys. abortConnect=false: the proxy starts and
            // serves while Redis is away, and the connection comes back by itself.
            var configuration = ConfigurationOptions.Parse(redis);
            configuration.AbortOnConnectFail = false;
            // Connected asynchronously: a synchronous connect held the first request's thread for
            // the whole connect timeout when Redis was away.
            var connection = new Lazy<Task<IConnectionMultiplexer>>(async () => await ConnectionMultiplexer.ConnectAsync(configuration));
            builder.Services.AddStackExchangeRedisCache(options =>
            {
                options.InstanceName = "harmony-proxy:";
                options.ConnectionMultiplexerFactory = () => connection.Value;
            });
            builder.Services.AddSingleton<IConversationStore, RedisConversationStore>();
            if (string.IsNullOrWhiteSpace(keysDirectory))
            {
                // The keys are read off the request path (RedisKeyRing), never by a request waiting on Redis.
                builder.Services.AddSingleton(services => new RedisKeyRing(() => connection.Value, services.GetRequiredService<TimeProvider>(), services.GetRequiredService<ILogger<RedisKeyRing>>()));
                builder.Services.AddHostedService(services => services.GetRequiredService<RedisKeyRing>());
                builder.Services.AddOptions<KeyManagementOptions>().Configure<RedisKeyRing>((options, keys) => options.XmlRepository = keys);
            }
        }

        if (!string.IsNullOrWhiteSpace(keysDirectory))
        {
            dataProtection.PersistKeysToFileSystem(new DirectoryInfo(keysDirectory));
        }

        builder.Services.AddSingleton<ReasoningMemory>();
        builder.Services.AddSingleton<ResponseStore>();
        builder.Services.AddSingleton<ReasoningSealer>();
        return builder;
    }
}
