namespace HarmonyProxy.Tests.Infrastructure;

/// <summary>The checkout the tests run from, for the tests that read its files (documents, fixtures, the built proxy).</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "HarmonyProxy.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new DirectoryNotFoundException("HarmonyProxy.sln not found above " + AppContext.BaseDirectory);
    }
}
