using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace HarmonyProxy.Responses;

/// <summary>
/// Seals a turn's reasoning into the <c>encrypted_content</c> of its reasoning item, so a client
/// that keeps no state (Codex sends <c>store: false</c>) carries it to the next request and only
/// this proxy, or a replica sharing its Data Protection keys, can read it back. Blobs expire
/// (<c>Responses:EncryptedReasoningHours</c>); a tampered, foreign or expired blob reads as null.
/// </summary>
internal sealed class ReasoningSealer(IDataProtectionProvider provider, IOptionsMonitor<ResponsesOptions> options)
{
    /// <summary>The Data Protection purpose: a blob sealed for anything else never opens here.</summary>
    public const string Purpose = "HarmonyProxy.Responses.Reasoning.v1";

    private readonly ITimeLimitedDataProtector _protector = provider.CreateProtector(Purpose).ToTimeLimitedDataProtector();

    public string Seal(string reasoning) =>
        Seal(reasoning, DateTimeOffset.UtcNow.Add(options.CurrentValue.EncryptedReasoningLifetime));

    public string Seal(string reasoning, DateTimeOffset expires) => _protector.Protect(reasoning, expires);

    public string? Unseal(string blob)
    {
        try
        {
            return _protector.Unprotect(blob, out _);
        }
        catch (Exception exception) when (exception is CryptographicException or FormatException)
        {
            return null;
        }
    }
}
