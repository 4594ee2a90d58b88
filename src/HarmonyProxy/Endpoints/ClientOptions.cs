using HarmonyProxy.Completions;
using Microsoft.Extensions.Options;

namespace HarmonyProxy.Endpoints;

/// <summary>The <c>HarmonyProxy:Clients</c> settings: the client profiles, first match wins; the built-in ones are in <c>appsettings.json</c>.</summary>
internal sealed class ClientOptions
{
    public const string SectionName = "HarmonyProxy:Clients";

    public List<ClientProfile> Profiles { get; set; } = [];
}

/// <summary>
/// A client recognised by what it sends, and the output it suits. It matches when the user agent
/// contains <see cref="UserAgentContains"/> or any of <see cref="Headers"/> is present and starts
/// with its value (an empty value: present at all); comparisons ignore case.
/// </summary>
internal sealed class ClientProfile
{
    public string Name { get; set; } = string.Empty;

    public string? UserAgentContains { get; set; }

    public Dictionary<string, string> Headers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The reasoning option for this client (none, reasoning_content, think_tags, reasoning, both); empty: the deployment's.</summary>
    public string? Reasoning { get; set; }

    /// <summary>The tool-call option for this client (native, text, drop); empty: the deployment's.</summary>
    public string? ToolCalls { get; set; }
}

/// <summary>Every profile has a name, a match rule and known output choices.</summary>
internal sealed class ClientOptionsRules : IValidateOptions<ClientOptions>
{
    public ValidateOptionsResult Validate(string? name, ClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        for (var i = 0; i < options.Profiles.Count; i++)
        {
            var profile = options.Profiles[i];
            var key = $"HarmonyProxy:Clients:Profiles:{i}";
            if (string.IsNullOrWhiteSpace(profile.Name) || (string.IsNullOrEmpty(profile.UserAgentContains) && profile.Headers.Count == 0))
            {
                errors.Add($"{key} needs a Name and a match rule (UserAgentContains or Headers); got Name '{profile.Name}'.");
            }

            if (!string.IsNullOrEmpty(profile.Reasoning) && !OutputOptions.TryParseReasoning(profile.Reasoning, out _))
            {
                errors.Add($"{key}:Reasoning must be none, reasoning_content, think_tags, reasoning or both; got '{profile.Reasoning}'.");
            }

            if (!string.IsNullOrEmpty(profile.ToolCalls) && !OutputOptions.TryParseToolCalls(profile.ToolCalls, out _))
            {
                errors.Add($"{key}:ToolCalls must be native, text or drop; got '{profile.ToolCalls}'.");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
