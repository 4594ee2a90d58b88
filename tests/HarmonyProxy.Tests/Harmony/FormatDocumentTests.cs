using System.Text.RegularExpressions;
using HarmonyProxy.Tests.Infrastructure;

namespace HarmonyProxy.Tests.Harmony;

/// <summary>Every "edge case N" and "section N" the code and tests cite is a heading of docs/harmony-format.md.</summary>
public sealed partial class FormatDocumentTests
{
    [Fact]
    public void EveryCitedEdgeCaseAndSection_IsAHeadingOfTheFormatDocument()
    {
        var root = Repository.Root;
        var document = File.ReadAllText(Path.Combine(root, "docs", "harmony-format.md"));
        var missing = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(root, "src"), "*.cs", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(Path.Combine(root, "tests"), "*.cs", SearchOption.AllDirectories))
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            var text = File.ReadAllText(file);
            foreach (Match cited in EdgeCaseCitation().Matches(text))
            {
                var first = int.Parse(cited.Groups["first"].Value, System.Globalization.CultureInfo.InvariantCulture);
                var last = cited.Groups["last"].Success ? int.Parse(cited.Groups["last"].Value, System.Globalization.CultureInfo.InvariantCulture) : first;
                for (var number = first; number <= last; number++)
                {
                    var heading = $"Edge case {number}{(number == first ? cited.Groups["letter"].Value : string.Empty)}:";
                    if (!document.Contains(heading, StringComparison.Ordinal))
                    {
                        missing.Add($"{Path.GetFileName(file)}: {cited.Value}");
                    }
                }
            }

            foreach (Match cited in SectionCitation().Matches(text))
            {
                if (!document.Contains($"\n## {cited.Groups["section"].Value}. ", StringComparison.Ordinal))
                {
                    missing.Add($"{Path.GetFileName(file)}: {cited.Value}");
                }
            }

            // The shared working spec is outside the repository; the code cites this document instead.
            if (text.Contains(OutsideDocument, StringComparison.Ordinal))
            {
                missing.Add($"{Path.GetFileName(file)}: cites harmony.md, which is not in the repository");
            }
        }

        Assert.Empty(missing);
    }

    private const string OutsideDocument = "harmony" + ".md section";

    [GeneratedRegex(@"[Ee]dge cases? (?<first>\d+)(?<letter>[a-c]?)(?:[–-](?<last>\d+))?")]
    private static partial Regex EdgeCaseCitation();

    [GeneratedRegex(@"harmony-format\.md,?\s+(?:///\s+)?section (?<section>\d)")]
    private static partial Regex SectionCitation();
}
