using Paas.Cli;
using Paas.Cli.Commands;

var commands = AppsCommands.All()
    .Concat(GitCommands.All())
    .Concat(ReleaseCommands.All())
    .Concat(ProcessCommands.All())
    .Concat(BuildpackCommands.All())
    .Concat(LogsCommands.All())
    .ToDictionary(c => c.Name);

try
{
    if (args.Length == 0 || args[0] is "help" or "--help" or "-h")
    {
        var topic = args.Length > 1 ? args[1] : null;
        if (topic is not null && commands.TryGetValue(topic, out var about))
            return Help(about);
        Console.WriteLine("Usage: paas COMMAND [options]\n\nCommands:");
        foreach (var c in commands.Values.Where(c => c.Name != "git:credential"))
            Console.WriteLine($"  {c.Name,-16} {c.Summary}");
        Console.WriteLine("\nRun `paas COMMAND --help` for a command's options. Environment: PAAS_API_URL, PAAS_TOKEN, PAAS_DATA_DIR.");
        return 0;
    }
    if (!commands.TryGetValue(args[0], out var command))
        throw new CliException($"'{args[0]}' is not a paas command; see `paas --help`.", 2);
    var parsed = ParsedArgs.Parse(args.Skip(1));
    if (parsed.Has("help"))
        return Help(command);
    return await command.Run(parsed, new CliContext(CliConfig.Load(), Console.Out));
}
catch (CliException e)
{
    Console.Error.WriteLine($" !    {e.Message}");
    return e.ExitCode;
}

static int Help(CliCommand command)
{
    Console.WriteLine($"Usage: {command.Usage}\n\n{command.Summary}.");
    return 0;
}
