using Paas.Core.Api;
using System.Text.Json;

namespace Paas.Cli.Commands;

/// <summary>`paas domains[:add|:remove]`: custom hostnames the router serves an app on.</summary>
public static class DomainCommands
{
    public static IEnumerable<CliCommand> All() =>
    [
        new("domains", "list the app's custom domains", "paas domains [-a APP] [--json]", ListAsync) { Options = Opt.AppScoped(Opt.Json) },
        new("domains:add", "serve the app on a custom hostname (or a wildcard like *.example.com)", "paas domains:add HOSTNAME [-a APP] [--json]", AddAsync) { Arguments = [new("HOSTNAME", "the hostname to serve, or a wildcard like *.example.com")], Options = Opt.AppScoped(Opt.Json) },
        new("domains:remove", "stop serving the app on a custom hostname", "paas domains:remove HOSTNAME [-a APP] [--json]", RemoveAsync) { Arguments = [new("HOSTNAME", "the hostname to stop serving")], Options = Opt.AppScoped(Opt.Json) },
    ];

    private static string PathOf(string app) => $"v1/apps/{Uri.EscapeDataString(app)}/domains";

    private static string Hostname(ParsedArgs args, string command) =>
        args.Positionals.FirstOrDefault() ?? throw new CliException($"Name the hostname: paas {command} www.example.com", 2);

    private static async Task<int> ListAsync(ParsedArgs args, CliContext cli)
    {
        var app = cli.ResolveApp(args);
        var domains = await cli.Api.GetAsync<List<DomainResponse>>(PathOf(app));
        if (args.Json)
        {
            cli.WriteJson(domains);
            return 0;
        }
        if (domains.Count == 0)
        {
            cli.Out.WriteLine($"{app} has no custom domains. Add one with: paas domains:add www.example.com -a {app}");
            return 0;
        }
        cli.WriteHeading($"{app} Custom Domains");
        foreach (var d in domains)
            cli.Out.WriteLine($"{d.Hostname,-40} added {d.CreatedAt:yyyy-MM-dd HH:mm:ss}");
        return 0;
    }

    private static async Task<int> AddAsync(ParsedArgs args, CliContext cli)
    {
        var hostname = Hostname(args, "domains:add");
        var app = cli.ResolveApp(args);
        var domain = await cli.Api.PostAsync<DomainResponse>(PathOf(app), new { hostname });
        if (args.Json)
        {
            cli.WriteJson(domain);
            return 0;
        }
        var added = domain.Hostname;
        cli.Out.WriteLine($"Adding {added} to {app}... done");
        cli.Out.WriteLine($"Point {added}'s DNS (a CNAME, or an A record) at the Paas router to reach {app} there.");
        return 0;
    }

    private static async Task<int> RemoveAsync(ParsedArgs args, CliContext cli)
    {
        // As the platform stores it, so the confirmation names the domain that was removed.
        var hostname = Hostname(args, "domains:remove").Trim().TrimEnd('.').ToLowerInvariant();
        var app = cli.ResolveApp(args);
        await cli.Api.DeleteAsync($"{PathOf(app)}/{Uri.EscapeDataString(hostname)}");
        if (args.Json)
        {
            cli.WriteJson(JsonSerializer.SerializeToElement(new { hostname, app, removed = true }));
            return 0;
        }
        cli.Out.WriteLine($"Removing {hostname} from {app}... done");
        return 0;
    }
}
