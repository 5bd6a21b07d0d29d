using System.Reflection;
using Paas.Cli;
using Paas.Cli.Commands;
using Paas.Cli.Help;
using Paas.Cli.Parsing;

var commands = AuthCommands.All()
    .Concat(AppsCommands.All())
    .Concat(CollaboratorCommands.All())
    .Concat(ConfigCommands.All())
    .Concat(GitCommands.All())
    .Concat(ReleaseCommands.All())
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
})
{
    Arguments = [new("SHELL", "the shell to complete in: bash")],
});

try
{
    if (args is ["--version" or "-v" or "version"])
    {
        var assembly = typeof(CliCommand).Assembly;
        var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? assembly.GetName().Version?.ToString();
        Console.WriteLine($"paas {version?.Split('+')[0]}");
        return 0;
    }
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
        {
            Console.Write(CommandLine.Help(about));
            return 0;
        }
        Console.WriteLine("Usage: paas COMMAND [options]\n\nCommands:");
        foreach (var c in commands.Values.Where(c => !c.Hidden))
            Console.WriteLine($"  {c.Name,-24} {c.Summary}");
        Console.WriteLine("\nRun `paas COMMAND --help` for a command's options; `paas --version` for the version. Environment: PAAS_API_URL, PAAS_TOKEN, PAAS_DATA_DIR.");
        return 0;
    }
    if (!commands.ContainsKey(args[0]))
        throw new CliException($"'{args[0]}' is not a paas command; see `paas --help`.", 2);
    var request = new CommandLine(commands.Values).Parse(args);
    if (request.WantsHelp)
    {
        Console.Write(CommandLine.Help(request.Command));
        return 0;
    }
    return await request.Command.Run(request.Args, new CliContext(CliConfig.Load(), Console.Out));
}
catch (CliException e)
{
    Console.Error.WriteLine($"{Terminal.ErrorPrefix}{e.Message}");
    return e.ExitCode;
}
catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or System.Text.Json.JsonException)
{
    // A command still reading JsonElement met an answer without the field it needs, or of another type.
    Console.Error.WriteLine($"{Terminal.ErrorPrefix}The Paas API answered with a shape this CLI does not understand ({e.Message.Split('\n')[0].TrimEnd('.')}); the CLI and the platform are probably different versions.");
    return 1;
}
catch (Exception e)
{
    // Never a stack trace: one sentence, and the kind of failure for a bug report.
    Console.Error.WriteLine($"{Terminal.ErrorPrefix}paas failed unexpectedly ({e.GetType().Name}: {e.Message.Split('\n')[0].TrimEnd('.')}).");
    return 1;
}
