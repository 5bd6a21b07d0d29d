using System.Diagnostics;
using Paas.Controller.Leadership;
using Paas.Controller.State;

namespace Paas.Controller.Git;

/// <summary>
/// Keeps the apps' repositories on every controller: the leader mirrors each accepted push to the standbys
/// (from the post-receive hook, before the pusher's `git push` returns), and a standby fetches every
/// repository from the leader when it starts, for what it missed while it was down.
/// </summary>
public sealed class RepositoryReplicator(GitRepositories repositories, ReplicationKey key, ILeadership leadership, IStateStore database, ILogger<RepositoryReplicator> logger)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Mirrors one app's repository to every standby, all at once; reports each one.</summary>
    public async Task ReplicateAsync(string app, Func<string, Task> output, CancellationToken cancellationToken)
    {
        var standbys = leadership.Standbys();
        if (standbys.Count == 0)
            return;
        var results = await Task.WhenAll(standbys.Select(async standby =>
            (standby, error: await GitAsync(app, ["push", "--mirror", "--quiet", ReplicaUrl(standby, app)], cancellationToken))));
        foreach (var (standby, error) in results)
        {
            if (error is null)
                continue;
            logger.LogWarning("Copying {App}'s repository to the standby {Standby} failed: {Error}", app, standby.Address, error);
            await output($" !     The standby controller {standby.Address} did not take a copy of this push ({error}); it fetches it when it next starts.");
        }
        var copied = results.Count(r => r.error is null);
        if (copied > 0)
            await output($"-----> Repository copied to {copied} standby controller{(copied == 1 ? "" : "s")}");
    }

    /// <summary>Fetches every app's repository from the leader (a standby's catch-up after its start).</summary>
    public async Task CatchUpAsync(ControllerIdentity leader, CancellationToken cancellationToken)
    {
        var apps = database.ListApps().Select(a => a.Name).ToList();
        var failed = 0;
        foreach (var app in apps)
        {
            if (!repositories.Exists(app))
                repositories.Create(app);
            if (await GitAsync(app, ["fetch", "--quiet", "--prune", ReplicaUrl(leader, app), "+refs/*:refs/*"], cancellationToken) is { } error)
            {
                failed++;
                logger.LogWarning("Fetching {App}'s repository from the leader {Leader} failed: {Error}", app, leader.Address, error);
            }
        }
        logger.LogInformation("Fetched {Count} repositories from the leader {Leader} ({Failed} failed)", apps.Count - failed, leader.Address, failed);
    }

    private static string ReplicaUrl(ControllerIdentity controller, string app) => $"{controller.Address}{ReplicaEndpoint.Prefix}/{app}.git";

    /// <summary>Runs git in the app's repository; null when it succeeded, else its last line of errors.</summary>
    private async Task<string?> GitAsync(string app, IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("git") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false, WorkingDirectory = repositories.PathOf(app) };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        // The key goes in the environment, not the command line, where any local user could read it in ps.
        start.Environment["GIT_CONFIG_COUNT"] = "1";
        start.Environment["GIT_CONFIG_KEY_0"] = "http.extraHeader";
        start.Environment["GIT_CONFIG_VALUE_0"] = "Authorization: Bearer " + key.Value;
        start.Environment["GIT_TERMINAL_PROMPT"] = "0";
        start.Environment["GIT_DIR"] = repositories.PathOf(app);
        using var process = Process.Start(start)!;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Timeout);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return $"no answer within {Timeout.TotalSeconds:0} s";
        }
        if (process.ExitCode == 0)
            return null;
        var lines = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length > 0 ? lines[^1] : $"git exited {process.ExitCode}";
    }
}
