using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace HarmonyProxy;

/// <summary>
/// A number setting's range, for the options validation source generator: the error names the
/// setting as an operator writes it (configuration key and environment variable) and the value it
/// had, which <see cref="RangeAttribute"/>'s message leaves out. NaN is never in range; a
/// <see cref="TimeSpan"/> is measured in seconds.
/// </summary>
/// <param name="setting">The key and aliases, e.g. <c>HarmonyProxy:Upstream:ReadTimeout (READ_TIMEOUT, ReadTimeoutSeconds)</c>.</param>
/// <param name="rule">What a valid value is, e.g. <c>a positive duration</c>.</param>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class SettingRangeAttribute(string setting, string rule) : ValidationAttribute
{
    public string Setting { get; } = setting;

    public string Rule { get; } = rule;

    public double Minimum { get; init; } = double.MinValue;

    public double Maximum { get; init; } = double.MaxValue;

    /// <summary>True when <see cref="Minimum"/> itself is not allowed (a positive duration).</summary>
    public bool MinimumExcluded { get; init; }

    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
    {
        var number = value is TimeSpan duration ? duration.TotalSeconds : Convert.ToDouble(value, CultureInfo.InvariantCulture);
        var inRange = (MinimumExcluded ? number > Minimum : number >= Minimum) && number <= Maximum;
        return inRange
            ? ValidationResult.Success
            : new ValidationResult(string.Create(CultureInfo.InvariantCulture, $"{Setting} must be {Rule}; got {value}."));
    }
}
