using System.Text.RegularExpressions;
using HarmonyProxy.Security;
using HarmonyProxy.Upstream;
using Microsoft.Extensions.Options;

namespace HarmonyProxy.Inspector;

/// <summary>
/// Secrets never leave through the inspector: the upstream key, the client keys, the metrics and
/// inspector tokens wherever they appear in a body, and anything shaped like a bearer credential
/// or an <c>sk-</c> key. Headers are never kept at all.
/// </summary>
internal sealed partial class Redactor
{
    public const string Mask = "[redacted]";

    private readonly string[] _secrets;

    public Redactor(IOptions<UpstreamOptions> upstream, UpstreamCredentials credentials, IOptions<SecurityOptions> security, IOptions<InspectorOptions> inspector)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentNullException.ThrowIfNull(security);
        ArgumentNullException.ThrowIfNull(inspector);
        _secrets = new[] { upstream.Value.ApiKey, credentials.ApiKey, security.Value.MetricsBearerToken, inspector.Value.Token }
            .Concat(security.Value.ApiKeys)
            .OfType<string>()
            .Where(secret => secret.Length >= 4)
            .Distinct(StringComparer.Ordinal)
            .OrderByDescending(secret => secret.Length)
            .ToArray();
    }

    public string Redact(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var secret in _secrets)
        {
            text = text.Replace(secret, Mask, StringComparison.Ordinal);
        }

        return CredentialShape().Replace(text, match => match.Groups["scheme"].Success ? match.Groups["scheme"].Value + Mask : Mask);
    }

    [GeneratedRegex(@"(?<scheme>[Bb]earer\s+)[A-Za-z0-9._~+/=-]{8,}|\bsk-[A-Za-z0-9_-]{8,}")]
    private static partial Regex CredentialShape();
}
