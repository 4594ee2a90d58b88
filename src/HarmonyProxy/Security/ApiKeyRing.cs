using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace HarmonyProxy.Security;

/// <summary>
/// The accepted client keys (configuration and a key file), kept only as SHA-256 hashes and
/// compared in constant time: the time a check takes does not depend on how much of a wrong
/// key matched, nor on which key matched.
/// </summary>
internal sealed class ApiKeyRing
{
    private readonly byte[][] _hashes;

    public ApiKeyRing(IOptions<SecurityOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var security = options.Value;
        var keys = new List<string>(security.ApiKeys.Where(static key => !string.IsNullOrWhiteSpace(key)).Select(static key => key.Trim()));
        if (!string.IsNullOrWhiteSpace(security.ApiKeysFile))
        {
            keys.AddRange(File.ReadAllLines(security.ApiKeysFile)
                .Select(static line => line.Trim())
                .Where(static line => line.Length > 0 && !line.StartsWith('#')));
        }

        _hashes = [.. keys.Distinct(StringComparer.Ordinal).Select(Hash)];
    }

    /// <summary>True when clients must present a key.</summary>
    public bool Enabled => _hashes.Length > 0;

    /// <summary>Checks a presented key against every accepted key, without early exit.</summary>
    public bool IsAccepted(string? presented)
    {
        if (string.IsNullOrEmpty(presented))
        {
            return false;
        }

        var hash = Hash(presented);
        var accepted = false;
        foreach (var candidate in _hashes)
        {
            accepted |= CryptographicOperations.FixedTimeEquals(hash, candidate);
        }

        return accepted;
    }

    /// <summary>A short, non-reversible client identifier for rate-limit partitions and logs.</summary>
    public static string ClientId(string key) => Convert.ToHexStringLower(Hash(key).AsSpan(0, 6));

    /// <summary>Constant-time comparison of a presented bearer token with a configured one.</summary>
    public static bool TokenMatches(string? presented, string expected) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(Hash(presented), Hash(expected));

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
