namespace Paas.Cli.Commands;

/// <summary>Who may push to and change an app besides its owner.</summary>
public static class CollaboratorCommands
{
    public static IEnumerable<CliCommand> All() =>
    [
        new("collaborators", "list who has access to an app", "paas collaborators [-a APP] [--json]", ListAsync) { Options = Opt.AppScoped(Opt.Json) },
        new("collaborators:add", "give a user access to an app (owner or operator)", "paas collaborators:add USER [-a APP]", AddAsync) { Arguments = [new("USER", "the user to give access")], Options = Opt.AppScoped() },
        new("collaborators:remove", "take a user's access away (or leave an app yourself)", "paas collaborators:remove USER [-a APP]", RemoveAsync) { Arguments = [new("USER", "the user to take access from")], Options = Opt.AppScoped() },
    ];

    private static string AppPath(CliContext cli, ParsedArgs args) => $"v1/apps/{Uri.EscapeDataString(cli.ResolveApp(args))}";

    private static async Task<int> ListAsync(ParsedArgs args, CliContext cli)
    {
        var people = await cli.Api.GetAsync(AppPath(cli, args) + "/collaborators");
        if (args.Json)
        {
            cli.WriteJson(people);
            return 0;
        }
        cli.Out.WriteLine($"=== {cli.ResolveApp(args)} access");
        foreach (var p in people.EnumerateArray())
            cli.Out.WriteLine($"{p.GetProperty("user").GetString(),-30} {p.GetProperty("role").GetString()}");
        return 0;
    }

    private static async Task<int> AddAsync(ParsedArgs args, CliContext cli)
    {
        var user = args.Positionals.FirstOrDefault() ?? throw new CliException("Say whom to add: paas collaborators:add USER", 2);
        await cli.Api.PostAsync(AppPath(cli, args) + "/collaborators", new { user });
        cli.Out.WriteLine($"Added {user} as a collaborator on {cli.ResolveApp(args)}.");
        return 0;
    }

    private static async Task<int> RemoveAsync(ParsedArgs args, CliContext cli)
    {
        var user = args.Positionals.FirstOrDefault() ?? throw new CliException("Say whom to remove: paas collaborators:remove USER", 2);
        await cli.Api.DeleteAsync($"{AppPath(cli, args)}/collaborators/{Uri.EscapeDataString(user)}");
        cli.Out.WriteLine($"Removed {user} from {cli.ResolveApp(args)}.");
        return 0;
    }
}
