using System.Text.Json;

namespace Paas.Cli.Commands;

public static class AppsCommands
{
    public static IEnumerable<CliCommand> All() =>
    [
        new("apps", "list apps", "paas apps [--json]", ListAsync),
        new("apps:create", "create an app", "paas apps:create NAME [--json]", CreateAsync),
        new("apps:info", "show an app", "paas apps:info [-a APP] [--json]", InfoAsync),
        new("open", "print the app's URL (with PATH appended), and open it in a browser when run in a terminal", "paas open [PATH] [-a APP] [--json]", OpenAsync),
        new("apps:destroy", "destroy an app, its instances and its repository", "paas apps:destroy -a APP --confirm APP", DestroyAsync),
    ];

    private static async Task<int> ListAsync(ParsedArgs args, CliContext cli)
    {
        var apps = await cli.Api.GetAsync("v1/apps");
        if (args.Json)
        {
            cli.WriteJson(apps);
            return 0;
        }
        if (apps.GetArrayLength() == 0)
        {
            cli.Out.WriteLine("You have no apps. Create one with: paas apps:create NAME");
            return 0;
        }
        cli.Out.WriteLine("=== Apps");
        foreach (var app in apps.EnumerateArray())
            cli.Out.WriteLine(app.GetProperty("name").GetString());
        return 0;
    }

    private static async Task<int> CreateAsync(ParsedArgs args, CliContext cli)
    {
        var name = args.Positionals.FirstOrDefault() ?? args.Get("app")
            ?? throw new CliException("An app name is required: paas apps:create NAME", 2);
        var app = await cli.Api.PostAsync("v1/apps", new { name });
        if (args.Json)
        {
            cli.WriteJson(app);
            return 0;
        }
        cli.Out.WriteLine($"Creating {name}... done");
        cli.Out.WriteLine($"{app.GetProperty("web_url").GetString()} | {app.GetProperty("git_url").GetString()}");
        return 0;
    }

    private static async Task<int> OpenAsync(ParsedArgs args, CliContext cli)
    {
        var name = cli.ResolveApp(args);
        var app = await cli.Api.GetAsync($"v1/apps/{Uri.EscapeDataString(name)}");
        var url = app.GetProperty("web_url").GetString()!.TrimEnd('/') + "/" + (args.Positionals.FirstOrDefault() ?? "").TrimStart('/');
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
        var app = await cli.Api.GetAsync($"v1/apps/{Uri.EscapeDataString(name)}");
        if (args.Json)
        {
            cli.WriteJson(app);
            return 0;
        }
        cli.Out.WriteLine($"=== {name}");
        cli.Out.WriteLine($"Git URL:  {app.GetProperty("git_url").GetString()}");
        cli.Out.WriteLine($"Web URL:  {app.GetProperty("web_url").GetString()}");
        cli.Out.WriteLine($"Owner:    {app.GetProperty("owner").GetString()}");
        cli.Out.WriteLine($"Release:  {(app.GetProperty("release").ValueKind == JsonValueKind.Number ? "v" + app.GetProperty("release").GetInt32() : "none yet")}");
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
