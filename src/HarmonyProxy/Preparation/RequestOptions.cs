using Microsoft.Extensions.Options;

namespace HarmonyProxy.Preparation;

/// <summary>The <c>HarmonyProxy:Requests</c> settings: what is done to a request before it leaves.</summary>
internal sealed class RequestOptions
{
    public const string SectionName = "HarmonyProxy:Requests";

    /// <summary>Add <c>&lt;|return|&gt;</c> and <c>&lt;|call|&gt;</c> to <c>stop</c> (<c>HARMONY_STOPS_ENABLED</c>).</summary>
    public bool HarmonyStopsEnabled { get; set; } = true;

    /// <summary>More stop strings for every request (<c>EXTRA_STOP_SEQUENCES</c>, comma-separated).</summary>
    public List<string> ExtraStopSequences { get; set; } = [];

    /// <summary>Reduce assistant history that holds Harmony markup to its final text.</summary>
    public bool CleanHistory { get; set; } = true;

    /// <summary>Reasoning effort for requests that name none (<c>low</c>, <c>medium</c>, <c>high</c>), written into <c>chat_template_kwargs</c>; null leaves llama-server's default.</summary>
    public string? DefaultReasoningEffort { get; set; }

    /// <summary>Largest accepted request body; larger ones get 413.</summary>
    [SettingRange("HarmonyProxy:Requests:MaxRequestBodyBytes", "a positive number of bytes", Minimum = 1)]
    public long MaxRequestBodyBytes { get; set; } = 16 * 1024 * 1024;
}

/// <summary>The ranges of <see cref="RequestOptions"/>, checked by code the options source generator writes.</summary>
[OptionsValidator]
internal sealed partial class RequestOptionsValidator : IValidateOptions<RequestOptions>;

/// <summary>What a range cannot say: the default effort is one gpt-oss knows.</summary>
internal sealed class RequestOptionsRules : IValidateOptions<RequestOptions>
{
    public ValidateOptionsResult Validate(string? name, RequestOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.DefaultReasoningEffort is { Length: > 0 } effort && ReasoningEffort.Normalize(effort) is null
            ? ValidateOptionsResult.Fail($"HarmonyProxy:Requests:DefaultReasoningEffort must be low, medium or high; got '{effort}'.")
            : ValidateOptionsResult.Success;
    }
}
