using HarmonyProxy.Configuration;
using HarmonyProxy.Upstream;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Builder;

public static class HarmonyProxyServiceCollectionExtensions
{
    /// <summary>Options (validated at start-up) and the typed upstream client.</summary>
    public static WebApplicationBuilder AddHarmonyProxy(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<HarmonyProxyOptions>()
            .BindConfiguration(HarmonyProxyOptions.SectionName)
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<HarmonyProxyOptions>, HarmonyProxyOptionsValidator>();
        builder.Services.AddUpstreamClient();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<UpstreamConcurrencyGate>();
        builder.Services.AddProblemDetails();
        return builder;
    }
}
