using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using HarmonyProxy.Configuration;
using HarmonyProxy.Tests.Infrastructure;

namespace HarmonyProxy.Tests.Configuration;

/// <summary>
/// The README's settings table is what the code binds: every documented <c>Section:Name</c> is a
/// settable property of the room's options bound from that section, a default given as one
/// literal is that property's default, and every such property is documented.
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

    /// <summary>Every property of every room's options is in the table: a setting nobody can find is a setting nobody sets.</summary>
    [Fact]
    public void EveryBoundSetting_IsDocumented()
    {
        var documented = DocumentedSettings().Select(row => (string)row[0]).ToHashSet(StringComparer.Ordinal);
        var missing = OptionsTypes()
            .SelectMany(type => type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(property => property.CanWrite)
                .Select(property => $"{Section(type)![(HarmonyProxySection.Length + 1)..]}:{property.Name}"))
            .Where(key => !documented.Contains(key))
            .ToList();

        Assert.True(missing.Count == 0, "not in README's settings table: " + string.Join(", ", missing));
    }

    /// <summary>Each earlier name of a duration maps onto a duration the options have, and the table says so beside it.</summary>
    [Fact]
    public void EveryLegacyDurationName_MapsOntoADocumentedDuration()
    {
        var readme = File.ReadAllText(Path.Combine(Repository.Root, "README.md"));
        foreach (var (legacy, (current, _)) in LegacyDurationNames.Map)
        {
            var (_, property) = Resolve(current[(HarmonyProxySection.Length + 1)..]);
            Assert.True(property?.PropertyType == typeof(TimeSpan), $"{legacy} maps onto {current}, which is no TimeSpan setting");
            var name = legacy[(legacy.LastIndexOf(':') + 1)..];
            Assert.Matches($@"\| `{Regex.Escape(current[(HarmonyProxySection.Length + 1)..])}` \| [^|]*`{Regex.Escape(name)}`", readme);
        }
    }

    private const string HarmonyProxySection = "HarmonyProxy";

    /// <summary>The room's options type whose <c>SectionName</c> is the key's section, and the property the rest of the key names.</summary>
    private static (object? Owner, PropertyInfo? Property) Resolve(string key)
    {
        var parts = key.Split(':');
        var room = OptionsTypes().FirstOrDefault(type => Section(type) == $"{HarmonyProxySection}:{parts[0]}");
        object? owner = room is not null ? Activator.CreateInstance(room) : null;
        PropertyInfo? property = null;
        for (var i = 1; i < parts.Length && owner is not null; i++)
        {
            property = owner.GetType().GetProperty(parts[i], BindingFlags.Public | BindingFlags.Instance);
            if (i < parts.Length - 1)
            {
                owner = property?.GetValue(owner);
            }
        }

        return (owner, property);
    }

    /// <summary>The rooms' options: the types with a <c>SectionName</c> under <c>HarmonyProxy</c>.</summary>
    private static IEnumerable<Type> OptionsTypes() =>
        typeof(StartupSettings).Assembly.GetTypes().Where(type => Section(type)?.StartsWith(HarmonyProxySection + ":", StringComparison.Ordinal) == true);

    private static string? Section(Type type) =>
        type.GetField("SectionName", BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue() as string;

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
