using System.Diagnostics.CodeAnalysis;
using HarmonyProxy.Completions;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.Endpoints;
using HarmonyProxy.Hosting;
using HarmonyProxy.Inspector;
using HarmonyProxy.Memory;
using HarmonyProxy.Preparation;
using HarmonyProxy.Security;
using HarmonyProxy.Upstream;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// Every room's settings, bound once from the room's own section of <c>HarmonyProxy</c> and
/// checked at start-up: ranges by the validation source generator (<c>[OptionsValidator]</c>),
/// what a range cannot say by the room's rules. A bad value stops the start with its setting's
/// name and value.
/// </summary>
internal static class SettingsSetup
{
    public static WebApplicationBuilder AddHarmonyProxySettings(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<UpstreamOptions>().BindConfiguration(UpstreamOptions.SectionName).CheckedBy(new UpstreamOptionsValidator(), new UpstreamOptionsRules());
        services.AddOptions<OutputDefaults>().BindConfiguration(OutputDefaults.SectionName).CheckedBy(new OutputDefaultsRules());
        services.AddOptions<ClientOptions>().BindConfiguration(ClientOptions.SectionName).CheckedBy(new ClientOptionsRules());
        services.AddOptions<RequestOptions>().BindConfiguration(RequestOptions.SectionName).CheckedBy(new RequestOptionsValidator(), new RequestOptionsRules());
        services.AddOptions<ParserOptions>().BindConfiguration(ParserOptions.SectionName).CheckedBy(new ParserOptionsValidator());
        services.AddOptions<LoopGuardOptions>().BindConfiguration(LoopGuardOptions.SectionName).CheckedBy(new LoopGuardOptionsValidator(), new LoopGuardOptionsRules());
        services.AddOptions<MetricsEndpointOptions>().BindConfiguration(MetricsEndpointOptions.SectionName);
        services.AddOptions<SecurityOptions>().BindConfiguration(SecurityOptions.SectionName).CheckedBy(new SecurityOptionsValidator());
        services.AddOptions<CrossOriginOptions>().BindConfiguration(CrossOriginOptions.SectionName).CheckedBy(new CrossOriginOptionsRules());
        services.AddOptions<ShutdownOptions>().BindConfiguration(ShutdownOptions.SectionName).CheckedBy(new ShutdownOptionsValidator());
        services.AddOptions<ReasoningMemoryOptions>().BindConfiguration(ReasoningMemoryOptions.SectionName).CheckedBy(new ReasoningMemoryOptionsValidator());
        services.AddOptions<ResponsesOptions>().BindConfiguration(ResponsesOptions.SectionName).CheckedBy(new ResponsesOptionsValidator());
        services.AddOptions<InspectorOptions>().BindConfiguration(InspectorOptions.SectionName).CheckedBy(new InspectorOptionsValidator());
        return builder;
    }

    /// <summary>The room's validators (ranges, rules), run when the host starts rather than at first use.</summary>
    private static void CheckedBy<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions>(this OptionsBuilder<TOptions> options, params IValidateOptions<TOptions>[] validators)
        where TOptions : class
    {
        foreach (var validator in validators)
        {
            options.Services.AddSingleton(validator);
        }

        options.ValidateOnStart();
    }
}
