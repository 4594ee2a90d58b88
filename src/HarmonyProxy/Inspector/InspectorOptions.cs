using Microsoft.Extensions.Options;

namespace HarmonyProxy.Inspector;

/// <summary>The <c>HarmonyProxy:Inspector</c> settings: the request inspector at <c>/ui</c>.</summary>
internal sealed class InspectorOptions
{
    public const string SectionName = "HarmonyProxy:Inspector";

    /// <summary>Keep recent requests and serve <c>/ui</c>. It holds prompts and answers: loopback only unless <see cref="Token"/> is set.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Requests kept, newest first; older ones go.</summary>
    [SettingRange("HarmonyProxy:Inspector:MaxRequests", "between 1 and 10000", Minimum = 1, Maximum = 10000)]
    public int MaxRequests { get; set; } = 200;

    /// <summary>The most bytes kept of each body of a request (what the client sent, each upstream request, llama-server's output, what the client got); the rest is cut with a note.</summary>
    [SettingRange("HarmonyProxy:Inspector:MaxBodyBytes", "between 1024 and 16777216", Minimum = 1024, Maximum = 16 * 1024 * 1024)]
    public int MaxBodyBytes { get; set; } = 64 * 1024;

    /// <summary>When set, <c>/ui</c> opens from anywhere to this token (<c>Authorization: Bearer</c>, or the login form's cookie); unset: from loopback only.</summary>
    public string? Token { get; set; }
}

/// <summary>The ranges of <see cref="InspectorOptions"/>, checked by code the options source generator writes.</summary>
[OptionsValidator]
internal sealed partial class InspectorOptionsValidator : IValidateOptions<InspectorOptions>;
