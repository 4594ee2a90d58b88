using Microsoft.Extensions.Options;

namespace HarmonyProxy.Completions;

/// <summary>The <c>HarmonyProxy:LoopGuard</c> settings: how a model going round in circles is noticed.</summary>
internal sealed class LoopGuardOptions
{
    public const string SectionName = "HarmonyProxy:LoopGuard";

    /// <summary>A history ending with the same tool call this many times in a row is counted and logged.</summary>
    [SettingRange("HarmonyProxy:LoopGuard:RepeatedToolCallThreshold", "a positive number", Minimum = 1)]
    public int RepeatedToolCallThreshold { get; set; } = 3;

    /// <summary>The length, in characters, of the piece of reasoning whose repeats are counted; 0 turns the in-stream guard off.</summary>
    public int ReasoningRepeatChars { get; set; } = 64;

    /// <summary>A generation whose hidden reasoning holds the same piece this many times, before any visible output, is ended.</summary>
    [SettingRange("HarmonyProxy:LoopGuard:ReasoningRepeatCount", "at least 2", Minimum = 2)]
    public int ReasoningRepeatCount { get; set; } = 8;
}

/// <summary>The ranges of <see cref="LoopGuardOptions"/>, checked by code the options source generator writes.</summary>
[OptionsValidator]
internal sealed partial class LoopGuardOptionsValidator : IValidateOptions<LoopGuardOptions>;

/// <summary>What a range cannot say: the piece length is off or long enough to mean a repeat.</summary>
internal sealed class LoopGuardOptionsRules : IValidateOptions<LoopGuardOptions>
{
    public ValidateOptionsResult Validate(string? name, LoopGuardOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.ReasoningRepeatChars is < 0 or (> 0 and < 16)
            ? ValidateOptionsResult.Fail($"HarmonyProxy:LoopGuard:ReasoningRepeatChars must be 0 (off) or at least 16; got {options.ReasoningRepeatChars}.")
            : ValidateOptionsResult.Success;
    }
}
