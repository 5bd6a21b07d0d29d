using Paas.Core.Api;
using System.Text.Json;

namespace Paas.Cli.Commands;

public static class AppsCommands
{
    public static IEnumerable<CliCommand> All() =>
    [
        new("apps", "list apps", "paas apps [--json]", ListAsync) { Options = [Opt.Json] },
        new("apps:create", "create an app", "paas apps:create NAME [--json]", CreateAsync) { Arguments = [new("NAME", "the new app's name")], Options = [Opt.App, Opt.Json] },
        new("apps:info", "show an app", "paas apps:info [-a APP] [--json]", InfoAsync) { Arguments = [new("APP", "the app (or -a APP)")], Options = Opt.AppScoped(Opt.Json) },
        new("apps:destroy", "destroy an app, its instances and its repository", "paas apps:destroy -a APP --confirm APP", DestroyAsync) { Options = Opt.AppScoped(Opt.Confirm) },
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
