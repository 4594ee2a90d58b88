using System.Net;

namespace HarmonyProxy.Security;

/// <summary>Where OpenAI clients put their key: <c>Authorization: Bearer</c>, <c>api-key</c> (Azure style) or <c>x-api-key</c>.</summary>
internal static class ClientCredentials
{
    public static string? PresentedKey(IHeaderDictionary headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var authorization = headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization["Bearer ".Length..].Trim();
        }

        var apiKey = headers["api-key"].ToString();
        if (apiKey.Length > 0)
        {
            return apiKey.Trim();
        }

        var xApiKey = headers["x-api-key"].ToString();
        return xApiKey.Length > 0 ? xApiKey.Trim() : null;
    }

    /// <summary>
    /// The client's <c>Authorization</c> header to pass on to llama-server when the proxy has no
    /// upstream key: only while the proxy checks no keys of its own, so llama-server's own
    /// <c>--api-key</c> keeps working. A key the proxy checked is the proxy's business and never
    /// leaves it.
    /// </summary>
    public static string? ForwardedAuthorization(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var authorization = context.Request.Headers.Authorization.ToString();
        return authorization.Length == 0 || context.RequestServices.GetRequiredService<ApiKeyRing>().Enabled ? null : authorization;
    }

    /// <summary>
    /// Who the client is, for limits and for what the proxy keeps on its behalf: its key's id when
    /// keys are in use, else its address.
    /// </summary>
    public static string Identity(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var key = PresentedKey(context.Request.Headers);
        var keys = context.RequestServices.GetRequiredService<ApiKeyRing>();
        return keys.Enabled && key is not null
            ? "key:" + ApiKeyRing.ClientId(key)
            : "ip:" + (context.Connection.RemoteIpAddress ?? IPAddress.None);
    }
}
