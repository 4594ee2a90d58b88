using HarmonyProxy.Memory;
using HarmonyProxy.Upstream;

namespace HarmonyProxy.Configuration;

/// <summary>
/// The settings the host is built from, read before the service provider exists: bound from the
/// same sections into the same option classes as the validated options (one source of
/// defaults), so a start-up decision and the running service never disagree. The only reader of
/// raw configuration outside this room is the legacy-name mapping and logging.
/// </summary>
internal static class StartupSettings
{
    public static HarmonyProxyOptions Proxy(IConfiguration configuration) =>
        configuration.GetSection(HarmonyProxyOptions.SectionName).Get<HarmonyProxyOptions>() ?? new HarmonyProxyOptions();

    public static UpstreamOptions Upstream(IConfiguration configuration) =>
        configuration.GetSection(UpstreamOptions.SectionName).Get<UpstreamOptions>() ?? new UpstreamOptions();

    public static ReasoningMemoryOptions ReasoningMemory(IConfiguration configuration) =>
        configuration.GetSection(ReasoningMemoryOptions.SectionName).Get<ReasoningMemoryOptions>() ?? new ReasoningMemoryOptions();

    public static ResponsesOptions Responses(IConfiguration configuration) =>
        configuration.GetSection(ResponsesOptions.SectionName).Get<ResponsesOptions>() ?? new ResponsesOptions();
}
