using Microsoft.Extensions.Options;

namespace HarmonyProxy.Security;

/// <summary>The <c>HarmonyProxy:Cors</c> settings: the browser origins allowed to call the proxy.</summary>
internal sealed class CrossOriginOptions
{
    public const string SectionName = "HarmonyProxy:Cors";

    /// <summary>Browser origins (<c>https://app.example.com</c>) allowed to call the proxy (<c>CORS_ALLOWED_ORIGINS</c>, comma-separated); empty: CORS off.</summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>The origins as a browser sends them: trimmed, without a trailing slash.</summary>
    public string[] Origins() =>
        AllowedOrigins.Where(origin => !string.IsNullOrWhiteSpace(origin)).Select(origin => origin.Trim().TrimEnd('/')).ToArray();
}

/// <summary>Each allowed origin is an origin: scheme, host and optional port.</summary>
internal sealed class CrossOriginOptionsRules : IValidateOptions<CrossOriginOptions>
{
    public ValidateOptionsResult Validate(string? name, CrossOriginOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.AllowedOrigins
            .Where(origin => !Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.AbsolutePath.Length > 1)
            .Select(origin => $"HarmonyProxy:Cors:AllowedOrigins holds '{origin}', which is not an origin (scheme, host and optional port, e.g. https://app.example.com).")
            .ToList();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
