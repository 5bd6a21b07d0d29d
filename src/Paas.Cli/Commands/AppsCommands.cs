using Paas.Core.Api;
using System.Text.Json;

namespace Paas.Cli.Commands;

public static class AppsCommands
{
    public static IEnumerable<CliCommand> All() =>
    [
        new("apps", "list apps", "paas apps [--json]", ListAsync)
        {
            Options = [Opt.Json],
        },
        new("apps:create", "create an app", "paas apps:create NAME [--json]", CreateAsync)
        {
            Arguments = [new("NAME", "the new app's name")],
            Options = [Opt.App, Opt.Json],
        },
        new("apps:info", "show an app", "paas apps:info [-a APP] [--json]", InfoAsync)
        {
            Arguments = [new("APP", "the app (or -a APP)")],
            Options = Opt.AppScoped(Opt.Json),
        },
        new("open", "print the app's URL (with PATH appended), and open it in a browser when run in a terminal", "paas open [PATH] [-a APP] [--json]", OpenAsync)
        {
            Arguments = [new("PATH", "a path to append (default: /)")],
            Options = Opt.AppScoped(Opt.Json),
        },
        new("apps:rename", "rename an app: its releases, config, domains, logs and repository follow, its old URL stops answering",
            "paas apps:rename NEWNAME [-a APP] [--json]", RenameAsync)
        {
            Arguments = [new("NEWNAME", "the app's new name")],
            Options = Opt.AppScoped(Opt.Json),
        },
        new("apps:destroy", "destroy an app, its instances and its repository", "paas apps:destroy -a APP --confirm APP", DestroyAsync)
        {
            Options = Opt.AppScoped(Opt.Confirm),
        },
    ];

    private static async Task<int> ListAsync(ParsedArgs args, CliContext cli)
    {
        var apps = await cli.Api.GetAsync<List<AppResponse>>("v1/apps");
        if (args.Json)
        {
            cli.WriteJson(apps);
            return 0;
        }
        if (apps.Count == 0)
        {
            cli.Out.WriteLine("You have no apps. Create one with: paas apps:create NAME");
            return 0;
        }
        cli.Out.WriteLine("=== Apps");
        foreach (var app in apps)
            cli.Out.WriteLine(app.Name);
        return 0;
    }

    private static async Task<int> CreateAsync(ParsedArgs args, CliContext cli)
    {
        var name = args.Positionals.FirstOrDefault() ?? args.Get("app")
            ?? throw new CliException("An app name is required: paas apps:create NAME", 2);
        var app = await cli.Api.PostAsync<AppResponse>("v1/apps", new { name });
        if (args.Json)
        {
            cli.WriteJson(app);
            return 0;
        }
        cli.Out.WriteLine($"Creating {name}... done");
        cli.Out.WriteLine($"{app.WebUrl} | {app.GitUrl}");
        return 0;
    }

    private static async Task<int> OpenAsync(ParsedArgs args, CliContext cli)
    {
        var name = cli.ResolveApp(args);
        var app = await cli.Api.GetAsync<AppResponse>($"v1/apps/{Uri.EscapeDataString(name)}");
        var url = app.WebUrl.TrimEnd('/') + "/" + (args.Positionals.FirstOrDefault() ?? "").TrimStart('/');
        if (args.Json)
        {
            cli.WriteJson(System.Text.Json.JsonSerializer.SerializeToElement(new { app = name, url }));
            return 0;
        }
        cli.Out.WriteLine(url);
        // A browser only for a person at a terminal: scripts and tests get the URL and nothing else happens.
        if (!Console.IsOutputRedirected && OperatingSystem.IsLinux())
        {
            try
            {
                using var browser = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("xdg-open", [url]) { UseShellExecute = false });
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // No xdg-open here (a server): the printed URL is the answer.
            }
        }
        return 0;
    }

    private static async Task<int> InfoAsync(ParsedArgs args, CliContext cli)
    {
        var name = cli.ResolveApp(args, allowPositional: true);
        var app = await cli.Api.GetAsync<AppResponse>($"v1/apps/{Uri.EscapeDataString(name)}");
        if (args.Json)
        {
            cli.WriteJson(app);
            return 0;
        }
        cli.Out.WriteLine($"=== {name}");
        cli.Out.WriteLine($"Git URL:  {app.GitUrl}");
        cli.Out.WriteLine($"Web URL:  {app.WebUrl}");
        cli.Out.WriteLine($"Owner:    {app.Owner}");
        cli.Out.WriteLine($"Release:  {(app.Release is { } release ? "v" + release : "none yet")}");
        return 0;
    }

    private static async Task<int> RenameAsync(ParsedArgs args, CliContext cli)
    {
        var newName = args.Positionals.FirstOrDefault()
            ?? throw new CliException("The new name is required: paas apps:rename NEWNAME -a APP", 2);
        var name = cli.ResolveApp(args);
        var app = await cli.Api.PatchAsync<AppResponse>($"v1/apps/{Uri.EscapeDataString(name)}", new { name = newName });
        // As heroku's CLI does: this directory's remotes that pointed at the old name now point at the new one.
        var updated = new List<string>();
        foreach (var (remote, url) in CliContext.GitRemotes())
        {
            if (CliContext.AppOf(url, cli.Config.ApiUrl) != name)
                continue;
            var renamed = new UriBuilder(url.Trim()) { Path = $"/{newName}.git" }.Uri.ToString();
            if (CliContext.Git("remote", "set-url", remote, renamed).ExitCode == 0)
                updated.Add(remote);
        }
        if (args.Json)
        {
            cli.WriteJson(app);
            return 0;
        }
        cli.Out.WriteLine($"Renaming {name} to {newName}... done");
        cli.Out.WriteLine($"{app.WebUrl} | {app.GitUrl}");
        foreach (var remote in updated)
            cli.Out.WriteLine($"Git remote {remote} updated");
        if (updated.Count == 0)
            cli.Out.WriteLine($"Don't forget to update git remotes for all other local checkouts of the app.");
        return 0;
    }

    private static async Task<int> DestroyAsync(ParsedArgs args, CliContext cli)
    {
        var name = cli.ResolveApp(args, allowPositional: true);
        if (args.Get("confirm") != name)
        {
            if (Console.IsInputRedirected)
                throw new CliException($"Destroying {name} is permanent: confirm with --confirm {name}.", 2);
            cli.Out.Write($" !    This destroys {name}, its instances, releases and repository.\n !    Type the app name to confirm: ");
            if (Console.ReadLine()?.Trim() != name)
                throw new CliException("Confirmation did not match; nothing was destroyed.");
        }
        await cli.Api.DeleteAsync($"v1/apps/{Uri.EscapeDataString(name)}");
        cli.Out.WriteLine($"Destroying {name}... done");
        return 0;
    }
}
