using Microsoft.Extensions.Options;

namespace HarmonyProxy.Completions;

/// <summary>The <c>HarmonyProxy:Parser</c> settings.</summary>
internal sealed class ParserOptions
{
    public const string SectionName = "HarmonyProxy:Parser";

    /// <summary>Most header or header-less text the parser holds before releasing it.</summary>
    [SettingRange("HarmonyProxy:Parser:MaxHeaderChars", "at least 64", Minimum = 64)]
    public int MaxHeaderChars { get; set; } = 4096;
}

/// <summary>The ranges of <see cref="ParserOptions"/>, checked by code the options source generator writes.</summary>
[OptionsValidator]
internal sealed partial class ParserOptionsValidator : IValidateOptions<ParserOptions>;
