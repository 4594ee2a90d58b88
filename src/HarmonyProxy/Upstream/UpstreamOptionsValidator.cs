using Microsoft.Extensions.Options;

namespace HarmonyProxy.Upstream;

/// <summary>Each setting's range (the <see cref="SettingRangeAttribute"/>s), checked by code the options source generator writes.</summary>
[OptionsValidator]
internal sealed partial class UpstreamOptionsValidator : IValidateOptions<UpstreamOptions>;

/// <summary>What one setting's range cannot say: URLs, names, and rules across settings. Each error names the setting and its value.</summary>
internal sealed class UpstreamOptionsRules : IValidateOptions<UpstreamOptions>
{
    private const string Section = "HarmonyProxy:Upstream:";

    public ValidateOptionsResult Validate(string? name, UpstreamOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (!IsHttpUrl(options.BaseUrl))
        {
            errors.Add($"{Section}BaseUrl (UPSTREAM_BASE_URL) must be an absolute http(s) URL; got '{options.BaseUrl}'.");
        }

        foreach (var backend in options.Backends.Where(backend => !IsHttpUrl(backend)))
        {
            errors.Add($"{Section}Backends (UPSTREAM_BACKENDS) must hold absolute http(s) URLs; got '{backend}'.");
        }

        if (!string.IsNullOrEmpty(options.BackendsDns) && !IsHttpUrl(options.BackendsDns))
        {
            errors.Add($"{Section}BackendsDns (UPSTREAM_BACKENDS_DNS) must be an absolute http(s) URL; got '{options.BackendsDns}'.");
        }

        if (options.ReadinessProbe?.ToUpperInvariant() is not ("PROPS" or "MODELS"))
        {
            errors.Add($"{Section}ReadinessProbe must be 'props' or 'models'; got '{options.ReadinessProbe}'.");
        }

        if (options.TotalTimeout < options.FirstByteTimeout)
        {
            errors.Add($"{Section}TotalTimeout ({options.TotalTimeout}) must not be shorter than FirstByteTimeout ({options.FirstByteTimeout}).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static bool IsHttpUrl(string? text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";
}
