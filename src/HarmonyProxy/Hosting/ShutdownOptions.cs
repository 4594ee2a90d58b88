using Microsoft.Extensions.Options;

namespace HarmonyProxy.Hosting;

/// <summary>The <c>HarmonyProxy:Shutdown</c> settings (<see cref="Microsoft.AspNetCore.Builder.GracefulDrain"/>).</summary>
internal sealed class ShutdownOptions
{
    public const string SectionName = "HarmonyProxy:Shutdown";

    /// <summary>On SIGTERM, open completions may finish for this long before they are ended cleanly (<c>DRAIN_SECONDS</c>, <c>DrainSeconds</c>).</summary>
    [SettingRange("HarmonyProxy:Shutdown:DrainTimeout (DRAIN_SECONDS, DrainSeconds)", "between 0 and 3600 seconds", Minimum = 0, Maximum = 3600)]
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(25);
}

/// <summary>The range of <see cref="ShutdownOptions"/>, checked by code the options source generator writes.</summary>
[OptionsValidator]
internal sealed partial class ShutdownOptionsValidator : IValidateOptions<ShutdownOptions>;
