namespace HarmonyProxy.Tests.Payloads;

/// <summary>Golden fixtures in a folder: the cases a pattern names, and one expected file compared (or rewritten with <c>UPDATE_PAYLOADS=1</c>).</summary>
internal static class GoldenFiles
{
    public static async Task AssertAsync(string directory, string file, string actual)
    {
        var path = Path.Combine(directory, file);
        if (Environment.GetEnvironmentVariable("UPDATE_PAYLOADS") == "1")
        {
            await File.WriteAllTextAsync(path, actual);
        }

        Assert.True(File.Exists(path), $"{path} is missing: run with UPDATE_PAYLOADS=1 and review it.");
        Assert.Equal(await File.ReadAllTextAsync(path), actual);
    }

    /// <summary>Each case's name (what its files share before the first dot), in order.</summary>
    public static TheoryData<string> Cases(string directory, string pattern)
    {
        var cases = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(directory, pattern).Order(StringComparer.Ordinal))
        {
            var fileName = Path.GetFileName(file);
            cases.Add(fileName[..fileName.IndexOf('.', StringComparison.Ordinal)]);
        }

        return cases;
    }
}
