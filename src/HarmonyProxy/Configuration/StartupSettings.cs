using HarmonyProxy.Memory;
using HarmonyProxy.Upstream;

namespace HarmonyProxy.Configuration;

/// <summary>
/// The few settings that decide which services the host is built with, read before the service
/// provider exists: bound from the same sections into the same option classes as the validated
/// options (one source of defaults), so a start-up decision and the running service never
/// disagree. Everything else reads its room's options from the container.
/// </summary>
internal static class StartupSettings
{
    public static UpstreamOptions Upstream(IConfiguration configuration) =>
        configuration.GetSection(UpstreamOptions.SectionName).Get<UpstreamOptions>() ?? new UpstreamOptions();

    public static ReasoningMemoryOptions ReasoningMemory(IConfiguration configuration) =>
        configuration.GetSection(ReasoningMemoryOptions.SectionName).Get<ReasoningMemoryOptions>() ?? new ReasoningMemoryOptions();

    public static ResponsesOptions Responses(IConfiguration configuration) =>
        configuration.GetSection(ResponsesOptions.SectionName).Get<ResponsesOptions>() ?? new ResponsesOptions();
}
