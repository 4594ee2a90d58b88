using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace HarmonyProxy.Tests.Hosting;

/// <summary>
/// Kestrel's inline scheduling follows the runtime's socket switch, so the container's one
/// variable moves the whole token path onto the socket threads. (The loopback tests run a second
/// time with the switch on in .ci/run.)
/// </summary>
public sealed class TransportSetupTests
{
    [Theory]
    [InlineData("1", true)]
    [InlineData("0", false)]
    [InlineData(null, false)]
    public void Kestrel_FollowsTheRuntimeInlineCompletionsSwitch(string? value, bool expectedInline)
    {
        var options = TransportOptionsWith(value);

        Assert.Equal(expectedInline, options.UnsafePreferInlineScheduling);
    }

    private static SocketTransportOptions TransportOptionsWith(string? value)
    {
        var previous = Environment.GetEnvironmentVariable(TransportSetup.InlineCompletionsVariable);
        Environment.SetEnvironmentVariable(TransportSetup.InlineCompletionsVariable, value);
        try
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.AddHarmonyProxyTransport();
            using var app = builder.Build();
            return app.Services.GetRequiredService<IOptions<SocketTransportOptions>>().Value;
        }
        finally
        {
            Environment.SetEnvironmentVariable(TransportSetup.InlineCompletionsVariable, previous);
        }
    }
}
