namespace Paas.EndToEnd.Tests.Infrastructure;

/// <summary>Where the repository and the built programs are, found from this test assembly's location.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>The build configuration this test assembly was built in (bin/Release/... or bin/Debug/...).</summary>
    public static string Configuration { get; } = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    public static string Dll(string projectDirectory, string assembly) =>
        Path.Combine(Root, projectDirectory, "bin", Configuration, "net10.0", assembly + ".dll");

    public static string Fixture(string name) => Path.Combine(Root, "tests", "fixtures", "apps", name);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Paas.sln")))
                return dir.FullName;
        throw new InvalidOperationException("Could not find the repository root (Paas.sln).");
    }
}
