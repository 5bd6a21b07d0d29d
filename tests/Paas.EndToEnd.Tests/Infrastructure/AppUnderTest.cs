using System.Text.Json;

namespace Paas.EndToEnd.Tests.Infrastructure;

/// <summary>An app created, wired to a work tree and pushed once, with helpers to look at it from outside.</summary>
public sealed class AppUnderTest(PlatformFixture platform, string name, string workTree)
{
    public string Name { get; } = name;
    public string WorkTree { get; } = workTree;

    public static async Task<AppUnderTest> PushedAsync(PlatformFixture platform, string stem, string fixture)
    {
        var name = PlatformFixture.UniqueAppName(stem);
        var workTree = await platform.NewWorkTreeAsync(fixture);
        Must(await platform.PaasAsync(workTree, "apps:create", name));
        Must(await platform.PaasAsync(workTree, "git:remote", name));
        Must(await platform.GitAsync(workTree, "push", "paas", "main"));
        return new AppUnderTest(platform, name, workTree);
    }

    public static ProcessResult Must(ProcessResult result)
    {
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"Command failed: {result}");
        return result;
    }

    public Task<ProcessResult> PaasAsync(params string[] args) => platform.PaasAsync(WorkTree, [.. args, "-a", Name]);

    public async Task<List<JsonElement>> InstancesAsync()
    {
        var ps = Must(await PaasAsync("ps", "--json"));
        return JsonDocument.Parse(ps.Stdout).RootElement.EnumerateArray().Select(e => e.Clone()).ToList();
    }

    public async Task<string> GetAsync()
    {
        using var response = await platform.GetThroughRouterAsync(PlatformFixture.AppHost(Name));
        return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
    }

    /// <summary>Polls (bounded) until the condition on `paas ps` holds; returns the last listing either way.</summary>
    public async Task<List<JsonElement>> WaitForInstancesAsync(Func<List<JsonElement>, bool> condition, TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var instances = await InstancesAsync();
        while (!condition(instances) && clock.Elapsed < timeout)
        {
            await Task.Delay(200);
            instances = await InstancesAsync();
        }
        return instances;
    }
}
