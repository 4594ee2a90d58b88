using Microsoft.Extensions.Options;

namespace HarmonyProxy.Memory;

/// <summary>The <c>HarmonyProxy:Responses</c> settings.</summary>
internal sealed class ResponsesOptions
{
    public const string SectionName = "HarmonyProxy:Responses";

    /// <summary>How long an <c>encrypted_content</c> reasoning blob can be read back.</summary>
    [SettingRange("HarmonyProxy:Responses:EncryptedReasoningLifetime (EncryptedReasoningHours)", "a positive duration", Minimum = 0, MinimumExcluded = true)]
    public TimeSpan EncryptedReasoningLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Where the Data Protection keys that seal reasoning live (<c>DATA_PROTECTION_KEYS_DIR</c>): a
    /// directory every replica mounts; empty: ASP.NET Core's default per-user key folder.
    /// </summary>
    public string? KeysDirectory { get; set; }
}

/// <summary>The ranges of <see cref="ResponsesOptions"/>, checked by code the options source generator writes.</summary>
[OptionsValidator]
internal sealed partial class ResponsesOptionsValidator : IValidateOptions<ResponsesOptions>;
