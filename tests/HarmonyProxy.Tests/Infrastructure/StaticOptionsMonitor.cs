using HarmonyProxy.Configuration;
using Microsoft.Extensions.Options;

namespace HarmonyProxy.Tests.Infrastructure;

/// <summary>Settings for a part built without a host.</summary>
internal sealed class StaticOptionsMonitor(HarmonyProxyOptions value) : IOptionsMonitor<HarmonyProxyOptions>
{
    public HarmonyProxyOptions CurrentValue => value;

    public HarmonyProxyOptions Get(string? name) => value;

    public IDisposable? OnChange(Action<HarmonyProxyOptions, string?> listener) => null;
}
