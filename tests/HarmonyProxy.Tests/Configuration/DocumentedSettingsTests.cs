using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using HarmonyProxy.Configuration;
using HarmonyProxy.Tests.Infrastructure;

namespace HarmonyProxy.Tests.Configuration;

/// <summary>
/// The README's settings table is what the code binds: every documented <c>Section:Name</c> is a
/// settable property of the options the proxy binds, and a default given as one literal is that
/// property's default.
/// </summary>
public sealed partial class DocumentedSettingsTests
{
    public static TheoryData<string, string> DocumentedSettings()
    {
        var readme = File.ReadAllText(Path.Combine(Repository.Root, "README.md"));
        var table = readme[readme.IndexOf("## Settings", StringComparison.Ordinal)..readme.IndexOf("## Endpoints", StringComparison.Ordinal)];
        var data = new TheoryData<string, string>();
        foreach (Match row in SettingRow().Matches(table))
        {
            var key = row.Groups["key"].Value;
            // Logging and OpenTelemetry are read by their own libraries' conventions, not bound here.
            if (key.Contains(':', StringComparison.Ordinal) && !key.StartsWith("Serilog:", StringComparison.Ordinal) && !key.StartsWith("HarmonyProxy:Logging", StringComparison.Ordinal))
            {
                data.Add(key, row.Groups["default"].Value.Trim());
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(DocumentedSettings))]
    public void ADocumentedSetting_IsAPropertyTheProxyBinds_WithTheDocumentedDefault(string key, string documentedDefault)
    {
        var (owner, property) = Resolve(key);

        Assert.True(property is { CanWrite: true }, $"{key} is documented but no options type has a settable property for it");
        var literal = DefaultLiteral().Match(documentedDefault);
        if (literal.Success)
        {
            Assert.Equal(literal.Groups["value"].Value, Shown(property!.GetValue(owner)));
        }
    }

    /// <summary>A room's own options type (by its <c>SectionName</c>), else a path through <see cref="HarmonyProxyOptions"/>.</summary>
    private static (object? Owner, PropertyInfo? Property) Resolve(string key)
    {
        var parts = key.Split(':');
        var room = typeof(HarmonyProxyOptions).Assembly.GetTypes().FirstOrDefault(type =>
            type.GetField("SectionName", BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue() is string section
            && section == $"{HarmonyProxyOptions.SectionName}:{parts[0]}");
        object? owner = room is not null ? Activator.CreateInstance(room) : new HarmonyProxyOptions();
        var path = room is not null ? parts[1..] : parts;
        PropertyInfo? property = null;
        for (var i = 0; i < path.Length && owner is not null; i++)
        {
            property = owner.GetType().GetProperty(path[i], BindingFlags.Public | BindingFlags.Instance);
            if (i < path.Length - 1)
            {
                owner = property?.GetValue(owner);
            }
        }

        return (owner, property);
    }

    private static string Shown(object? value) => value switch
    {
        null => "none",
        bool flag => flag ? "true" : "false",
        string text => text,
        System.Collections.IEnumerable items when !items.Cast<object>().Any() => "[]",
        IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "none",
    };

    [GeneratedRegex(@"^\| `(?<key>[^`]+)` \| [^|]* \| (?<default>[^|]*) \|", RegexOptions.Multiline)]
    private static partial Regex SettingRow();

    /// <summary>A default that is one literal, possibly followed by a remark in parentheses.</summary>
    [GeneratedRegex(@"^`(?<value>[^`]*)`( \(.*\))?$")]
    private static partial Regex DefaultLiteral();
}
