using HarmonyProxy.Configuration;
using Microsoft.Extensions.Configuration.Json;

namespace Microsoft.AspNetCore.Builder;

public static class ConfigurationSetup
{
    /// <summary>
    /// Reads the repository-root <c>appsettings.json</c> (copied beside the binaries) as the
    /// lowest-priority source, so environment variables, command line and tests override it,
    /// and maps the predecessor's variable names on top.
    /// </summary>
    public static WebApplicationBuilder AddHarmonyProxyConfiguration(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var file = Path.Combine(AppContext.BaseDirectory, "appsettings.json");
        var source = new JsonConfigurationSource { Path = file, Optional = true, ReloadOnChange = false };
        source.ResolveFileProvider();
        builder.Configuration.Sources.Insert(0, source);
        builder.Configuration.AddLegacyEnvironmentVariables();
        return builder;
    }
}
