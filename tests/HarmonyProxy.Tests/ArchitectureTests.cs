using System.Reflection;
using System.Text.RegularExpressions;
using HarmonyProxy.Configuration;
using HarmonyProxy.Tests.Infrastructure;

namespace HarmonyProxy.Tests;

/// <summary>
/// The map of the house, enforced (DESIGN.md, "Parts and their rooms"): a room is a folder of
/// <c>src/HarmonyProxy</c> (its ASP.NET Core wiring included); what a room's files import (a
/// <c>using</c>, or a name qualified with another room) are its arrows. The rooms form no cycle, the low rooms stay low, and only static
/// extension classes live in ASP.NET Core's own namespaces.
/// </summary>
public sealed partial class ArchitectureTests
{
    private static readonly string Source = Path.Combine(Repository.Root, "src", "HarmonyProxy");

    /// <summary>Rooms and what each may never import.</summary>
    public static TheoryData<string, string[]> NeverImports => new()
    {
        { "Harmony", ["*"] },
        { "Wire", ["*", "-Harmony"] },
        { "Diagnostics", ["*", "-Harmony", "-Wire"] },
        { "Completions", ["*", "-Harmony", "-Wire", "-Diagnostics"] },
        { "Memory", ["Endpoints", "Preparation", "Completions", "Forwarding", "Configuration", "Hosting"] },
        { "Upstream", ["Endpoints", "Preparation", "Completions", "Forwarding", "Memory", "Configuration", "Hosting"] },
        { "Security", ["Endpoints", "Preparation", "Completions", "Forwarding", "Configuration", "Hosting"] },
        { "Preparation", ["Endpoints", "Forwarding", "Upstream", "Security", "Configuration", "Hosting"] },
        { "Forwarding", ["Endpoints", "Security", "Configuration", "Hosting", "Inspector"] },
        { "Endpoints", ["Configuration", "Hosting", "Inspector"] },

        // The client setup command runs before any service: it needs only the wire's model list.
        { "Setup", ["*", "-Wire"] },

        // The inspector reads what the request reported (Diagnostics' recorder); nothing but Hosting wires it in.
        { "Inspector", ["Forwarding", "Preparation", "Completions", "Configuration", "Hosting"] },

        // Each room owns its options; Configuration only maps the old names and reads the
        // few settings the host is built from, so only Hosting needs it.
        { "Configuration", ["*", "-Upstream", "-Memory"] },
    };

    /// <summary>The rooms of DESIGN.md's table, each a folder of <c>src/HarmonyProxy</c>, and no other.</summary>
    private static readonly string[] Rooms =
        ["Completions", "Configuration", "Diagnostics", "Endpoints", "Forwarding", "Harmony", "Hosting", "Inspector", "Memory", "Preparation", "Security", "Setup", "Upstream", "Wire"];

    [Fact]
    public void TheFoldersAreTheRoomsOfTheDesign()
    {
        var folders = Directory.EnumerateDirectories(Source).Select(Path.GetFileName).Where(name => name is not ("bin" or "obj")).Order(StringComparer.Ordinal);

        Assert.Equal(Rooms, folders);
    }

    /// <summary>Settings are read through each room's bound options (start-up decisions through <c>Configuration/StartupSettings</c>); raw configuration only for logging, the listening address and OpenTelemetry's own variables.</summary>
    [Fact]
    public void OnlyConfiguration_ReadsRawConfiguration()
    {
        string[] allowed = ["Hosting/LoggingSetup.cs", "Hosting/ConfigurationSetup.cs", "Hosting/TelemetrySetup.cs"];
        var readers = SourceFiles()
            .Where(file => RoomOf(file.File) is { } room && room != "Configuration" && !allowed.Contains(file.File.Replace('\\', '/')) && RawConfiguration().IsMatch(file.Text))
            .Select(file => file.File)
            .ToList();

        Assert.True(readers.Count == 0, "raw configuration read in: " + string.Join(", ", readers));
    }

    /// <summary>Time is the injected <see cref="TimeProvider"/>'s, so tests can drive it.</summary>
    [Fact]
    public void NoRoomReadsTheClockDirectly()
    {
        var readers = SourceFiles()
            .Where(file => WallClock().IsMatch(file.Text))
            .Select(file => file.File)
            .ToList();

        Assert.True(readers.Count == 0, "the clock read directly in: " + string.Join(", ", readers));
    }

    /// <summary>Diagnostics is the only writer of metrics (DESIGN.md, "Reporting"): every other room says what happened through <c>ProxyMetrics</c>' named methods.</summary>
    [Fact]
    public void OnlyDiagnostics_WritesToAMetric()
    {
        var writers = SourceFiles()
            .Where(file => RoomOf(file.File) is { } room && room != "Diagnostics" && MetricWrite().IsMatch(file.Text))
            .Select(file => file.File)
            .ToList();

        Assert.True(writers.Count == 0, "metric writes outside Diagnostics: " + string.Join(", ", writers));
    }

    [Theory]
    [MemberData(nameof(NeverImports))]
    public void ALowRoom_ImportsNothingAboveIt(string room, string[] never)
    {
        var arrows = Arrows();
        var imported = arrows.TryGetValue(room, out var targets) ? targets : [];
        var allowed = never.Where(rule => rule.StartsWith('-')).Select(rule => rule[1..]).ToHashSet();
        var forbidden = never.Contains("*") ? imported.Keys.Where(target => !allowed.Contains(target)) : imported.Keys.Intersect(never);

        Assert.True(!forbidden.Any(), $"{room} imports {string.Join(", ", forbidden.Select(target => $"{target} ({string.Join(", ", imported[target])})"))}");
    }

    [Fact]
    public void TheRoomsFormNoCycle()
    {
        var arrows = Arrows();
        foreach (var room in arrows.Keys)
        {
            var path = new List<string>();
            Assert.True(!Reaches(arrows, room, room, path, []), $"cycle: {room} -> {string.Join(" -> ", path)}");
        }
    }

    [Fact]
    public void OnlyStaticExtensionClasses_LiveInAspNetCoresNamespaces()
    {
        var intruders = typeof(StartupSettings).Assembly.GetTypes()
            .Where(type => type.Namespace is { } ns && ns.StartsWith("Microsoft.", StringComparison.Ordinal) && !type.IsNested
                && !type.Name.StartsWith('<') && !(type.IsAbstract && type.IsSealed))
            .Select(type => type.FullName)
            .ToList();

        Assert.True(intruders.Count == 0, "non-static types in Microsoft namespaces: " + string.Join(", ", intruders));
    }

    /// <summary>Room → (imported room → the files that import it), from the source tree.</summary>
    private static Dictionary<string, Dictionary<string, List<string>>> Arrows()
    {
        var files = SourceFiles().Select(file => (file.File, file.Text, Room: RoomOf(file.File))).ToList();
        var rooms = files.Select(file => file.Room).OfType<string>().ToHashSet();

        // ASP.NET Core's namespaces need no using: a room's classes there are found by name.
        var wiring = files.Where(file => file.Room is not null && AspNetCoreNamespace().IsMatch(file.Text))
            .SelectMany(file => StaticClass().Matches(file.Text).Select(match => (Name: match.Groups[1].Value, Room: file.Room!)))
            .ToList();
        var arrows = new Dictionary<string, Dictionary<string, List<string>>>();
        foreach (var (file, text, room) in files)
        {
            if (room is null)
            {
                // The root's files: Program.cs (the table of contents) and the one shared primitive.
                continue;
            }

            var targets = Using().Matches(text).Select(match => match.Groups[1].Value)
                .Concat(rooms.Where(other => Regex.IsMatch(text, $@"(?<![\w.""]){other}\.[A-Z]\w*\.")))
                .Concat(wiring.Where(type => Regex.IsMatch(text, $@"(?<![\w.""]){type.Name}\.")).Select(type => type.Room))
                .Where(target => target != room && rooms.Contains(target));
            foreach (var target in targets)
            {
                var byTarget = arrows.TryGetValue(room, out var existing) ? existing : arrows[room] = [];
                (byTarget.TryGetValue(target, out var list) ? list : byTarget[target] = []).Add(file);
            }
        }

        return arrows;
    }

    private static IEnumerable<(string File, string Text)> SourceFiles() =>
        Directory.EnumerateFiles(Source, "*.cs", SearchOption.AllDirectories)
            .Where(file => !file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(file => (Path.GetRelativePath(Source, file), File.ReadAllText(file)));

    /// <summary>The file's folder under <c>src/HarmonyProxy</c>, or null for the root's own files.</summary>
    private static string? RoomOf(string relativePath) =>
        Path.GetDirectoryName(relativePath) is { Length: > 0 } folder ? folder.Split(Path.DirectorySeparatorChar)[0] : null;

    private static bool Reaches(Dictionary<string, Dictionary<string, List<string>>> arrows, string from, string target, List<string> path, HashSet<string> seen)
    {
        foreach (var next in arrows.TryGetValue(from, out var targets) ? targets.Keys : Enumerable.Empty<string>())
        {
            path.Add(next);
            if (next == target || (seen.Add(next) && Reaches(arrows, next, target, path, seen)))
            {
                return true;
            }

            path.RemoveAt(path.Count - 1);
        }

        return false;
    }

    [GeneratedRegex(@"^using HarmonyProxy\.(\w+)", RegexOptions.Multiline)]
    private static partial Regex Using();

    /// <summary>A Prometheus collector touched: <c>.WithLabels(…)</c>, or <c>Inc</c>/<c>Dec</c>/<c>Set</c>/<c>Observe</c> on a metrics property.</summary>
    [GeneratedRegex(@"\.WithLabels\(|[Mm]etrics\.[A-Z]\w*\.(?:Inc|Dec|Set|Observe|RemoveLabelled)\(")]
    private static partial Regex MetricWrite();

    [GeneratedRegex(@"[Cc]onfiguration(?:\.GetSection\(|\.GetValue<|\[)")]
    private static partial Regex RawConfiguration();

    [GeneratedRegex(@"DateTime(?:Offset)?\.(?:UtcNow|Now)\b|Stopwatch\.GetTimestamp\(")]
    private static partial Regex WallClock();

    [GeneratedRegex(@"^namespace Microsoft\.", RegexOptions.Multiline)]
    private static partial Regex AspNetCoreNamespace();

    [GeneratedRegex(@"\bstatic (?:partial )?class (\w+)")]
    private static partial Regex StaticClass();
}
