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
}
