namespace HarmonyProxy.Endpoints;

/// <summary>Which configured client profile a request comes from (<c>Clients:Profiles</c>, first match wins).</summary>
internal static class ClientProfiles
{
    public const string Unknown = "other";

    public static ClientProfile? Detect(IReadOnlyList<ClientProfile> profiles, IHeaderDictionary headers)
    {
        ArgumentNullException.ThrowIfNull(profiles);
        ArgumentNullException.ThrowIfNull(headers);
        var userAgent = headers.UserAgent.ToString();
        foreach (var profile in profiles)
        {
            if (!string.IsNullOrEmpty(profile.UserAgentContains) && userAgent.Contains(profile.UserAgentContains, StringComparison.OrdinalIgnoreCase))
            {
                return profile;
            }

            foreach (var (name, prefix) in profile.Headers)
            {
                if (headers.TryGetValue(name, out var value) && value.ToString().StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                {
                    return profile;
                }
            }
        }

        return null;
    }
}
