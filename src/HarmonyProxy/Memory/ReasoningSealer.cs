using System.Security.Cryptography;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.Memory;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;

namespace HarmonyProxy.Memory;

/// <summary>
/// Seals a turn's reasoning into the <c>encrypted_content</c> of its reasoning item, so a client
/// that keeps no state (Codex sends <c>store: false</c>) carries it to the next request and only
/// this proxy, or a replica sharing its Data Protection keys, can read it back. Blobs expire
/// (<c>Responses:EncryptedReasoningLifetime</c>); a tampered, foreign or expired blob reads as null.
/// While keys kept on Redis have not been read yet (Redis away since start), nothing is sealed
/// or opened: the item goes without <c>encrypted_content</c>, counted, rather than wait on Redis
/// or seal with a key no other replica knows.
/// </summary>
internal sealed class ReasoningSealer(
    IDataProtectionProvider provider,
    IOptions<KeyManagementOptions> keys,
    IOptionsMonitor<ResponsesOptions> options,
    TimeProvider time,
    ProxyMetrics metrics)
{
    /// <summary>The Data Protection purpose: a blob sealed for anything else never opens here.</summary>
    public const string Purpose = "HarmonyProxy.Responses.Reasoning.v1";

    private readonly ITimeLimitedDataProtector _protector = provider.CreateProtector(Purpose).ToTimeLimitedDataProtector();

    private bool KeysReady => keys.Value.XmlRepository is not RedisKeyRing { IsLoaded: false };

    public string? Seal(string reasoning) =>
        Seal(reasoning, time.GetUtcNow().Add(options.CurrentValue.EncryptedReasoningLifetime));

    public string? Seal(string reasoning, DateTimeOffset expires)
    {
        if (!KeysReady)
        {
            metrics.ResponsesReasoningNotSealed();
            return null;
        }

        return _protector.Protect(reasoning, expires);
    }

    public string? Unseal(string blob)
    {
        if (!KeysReady)
        {
            return null;
        }

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
