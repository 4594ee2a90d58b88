using HarmonyProxy.Configuration;
using HarmonyProxy.Responses;
using Microsoft.AspNetCore.DataProtection;

namespace Microsoft.AspNetCore.Builder;

internal static class ResponsesSetup
{
    /// <summary>
    /// The Responses API's state: the bounded store of responses, and Data Protection keys that
    /// seal reasoning into <c>encrypted_content</c>. Replicas must share the keys (a mounted
    /// <c>Responses:KeysDirectory</c>), else a blob sealed by one is unreadable by another.
    /// </summary>
    public static WebApplicationBuilder AddHarmonyProxyResponses(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var dataProtection = builder.Services.AddDataProtection().SetApplicationName("HarmonyProxy");
        var keysDirectory = builder.Configuration[$"{HarmonyProxyOptions.SectionName}:Responses:KeysDirectory"];
        if (!string.IsNullOrWhiteSpace(keysDirectory))
        {
            dataProtection.PersistKeysToFileSystem(new DirectoryInfo(keysDirectory));
        }

        builder.Services.AddSingleton<ResponseStore>();
        builder.Services.AddSingleton<ReasoningSealer>();
        return builder;
    }
}
