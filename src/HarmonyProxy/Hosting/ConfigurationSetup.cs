using HarmonyProxy.Configuration;
using Microsoft.Extensions.Configuration.Json;

namespace Microsoft.AspNetCore.Builder;

internal static class ConfigurationSetup
{
    public const string DefaultUrl = "http://127.0.0.1:8081";

    /// <summary>
    /// Reads the repository-root <c>appsettings.json</c> (copied beside the binaries) as the
    /// lowest-priority source, so environment variables, command line and tests override it,
    /// and maps the predecessor's variable names, and the durations' names in units, on top.
    /// </summary>
    public static WebApplicationBuilder AddHarmonyProxyConfiguration(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var file = Path.Combine(AppContext.BaseDirectory, "appsettings.json");
        var source = new JsonConfigurationSource { Path = file, Optional = true, ReloadOnChange = false };
        source.ResolveFileProvider();
        builder.Configuration.Sources.Insert(0, source);
        builder.Configuration.AddLegacyEnvironmentVariables();
        builder.Configuration.AddLegacyDurationNames();

        // Loopback by default (a laptop proxy should not face the network); --urls,
        // ASPNETCORE_URLS or Kestrel settings choose otherwise (the container listens on 0.0.0.0).
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && !builder.Configuration.GetSection("Kestrel:Endpoints").Exists())
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        return builder;
    }
}
