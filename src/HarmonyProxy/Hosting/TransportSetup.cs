using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace Microsoft.AspNetCore.Builder;

internal static class TransportSetup
{
    /// <summary>The .NET runtime's switch that completes socket operations on its epoll threads.</summary>
    public const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// One switch for the whole network path. With <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c>
    /// (the container sets it) the runtime completes socket reads on its epoll thread, HttpClient's
    /// reads from llama-server included, and Kestrel, told here to follow, runs its connection
    /// pipes inline as well: a token then travels from llama-server's socket to the IDE's without
    /// a thread-pool hop, as it does in nginx's event loop. That hop was the largest CPU cost per
    /// token after the kernel's own (see README, Performance). It is safe here because nothing on
    /// the request path blocks: every read and write is awaited, and log events are written to the
    /// console by a background thread (<see cref="LoggingSetup"/>).
    /// </summary>
    public static WebApplicationBuilder AddHarmonyProxyTransport(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var inline = Environment.GetEnvironmentVariable(InlineCompletionsVariable) == "1";
        builder.Services.Configure<SocketTransportOptions>(options => options.UnsafePreferInlineScheduling = inline);
        return builder;
    }
}
