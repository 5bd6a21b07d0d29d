using Paas.Cli;
using Paas.Cli.Commands;
using Paas.Cli.Help;

var commands = AuthCommands.All()
    .Concat(AppsCommands.All())
    .Concat(CollaboratorCommands.All())
    .Concat(ConfigCommands.All())
    .Concat(GitCommands.All())
    .Concat(ReleaseCommands.All())
    .Concat(RegistryCommands.All())
    .Concat(ProcessCommands.All())
    .Concat(BuildpackCommands.All())
    .Concat(RunCommands.All())
    .Concat(DomainCommands.All())
    .Concat(CertCommands.All())
    .Concat(MetricsCommands.All())
    .Concat(RoutingCommands.All())
    .Concat(LogsCommands.All())
    .Concat(AddonCommands.All())
    .ToDictionary(c => c.Name);
commands.Add("completion", new("completion", "print a shell completion script (bash)", "paas completion bash", (args, cli) =>
{
    if (args.Positionals.FirstOrDefault() is not "bash")
        throw new CliException("Only bash completion is available: paas completion bash", 2);
    cli.Out.Write(CompletionScript.Bash(commands.Values));
    return Task.FromResult(0);
}));

try
{
    if (args.Length == 0 || args[0] is "help" or "--help" or "-h")
    {
        var topic = args.Length > 1 ? args[1] : null;
        if (topic is "--markdown")
        {
            Console.Write(CommandReference.Markdown(commands.Values));
            return 0;
        }
        if (topic is "--settings-markdown")
        {
            // README's configuration table (make docs), from the one list of settings every process reads.
            Console.Write(Paas.Core.Configuration.SettingsCatalogue.MarkdownTable());
            return 0;
        }
        if (topic is not null && commands.TryGetValue(topic, out var about))
            return Help(about);
        Console.WriteLine("Usage: paas COMMAND [options]\n\nCommands:");
        foreach (var c in commands.Values.Where(c => !c.Hidden))
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
    Console.Error.WriteLine($"{Terminal.ErrorPrefix}{e.Message}");
    return e.ExitCode;
}

static int Help(CliCommand command)
{
    Console.WriteLine($"Usage: {command.Usage}\n\n{command.Summary}.");
    return 0;
}
