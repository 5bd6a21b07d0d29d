using System.Text.Json;
using Paas.Core.Logs;

namespace Paas.Cli.Commands;

public static class LogsCommands
{
    private const int MaxLines = 1500;

    public static IEnumerable<CliCommand> All() =>
    [
        new("logs", "show an app's log: its output, router, staging and platform lines (--tail keeps following)",
            "paas logs [-a APP] [-n NUM] [--tail] [--source app|router|staging|platform] [-d|--dyno web.1] [--json]", LogsAsync) { Options = Opt.AppScoped(Opt.Num, new CliOption("tail", null, "keep following new lines") { Short = "-t" }, new CliOption("source", "SOURCE", "only lines from app, router, staging or platform") { Short = "-s" }, new CliOption("ps", "DYNO", "only lines of one process type or instance (web, web.1)") { Short = "-d", Aliases = ["--dyno"] }, Opt.Json) },
    ];

    private static async Task<int> LogsAsync(ParsedArgs args, CliContext cli)
    {
        var app = cli.ResolveApp(args);
        var query = new List<string>();
        if (args.Get("num") is { } num)
        {
            if (!int.TryParse(num, out var n) || n is < 1 or > MaxLines)
                throw new CliException($"-n must be a number of lines between 1 and {MaxLines}, not '{num}'.", 2);
            query.Add($"lines={n}");
        }
        if (args.Get("source") is { } source)
        {
            if (!LogSource.IsKnown(source))
                throw new CliException($"--source must be one of {string.Join(", ", LogSource.All)}, not '{source}'.", 2);
            query.Add($"source={source}");
        }
        if (args.Get("ps") is { } ps)
            query.Add($"ps={Uri.EscapeDataString(ps)}");
        if (args.Has("tail"))
            query.Add("tail=true");

        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // Ctrl-C ends a tail normally: stop reading, exit 0.
            e.Cancel = true;
            stop.Cancel();
        };
        var colour = !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null;
        try
        {
            await using var stream = await cli.Api.OpenStreamAsync($"v1/apps/{Uri.EscapeDataString(app)}/logs?{string.Join('&', query)}", stop.Token);
            using var reader = new StreamReader(stream);
            while (await reader.ReadLineAsync(stop.Token) is { } json)
            {
                if (json.Length == 0)
                    continue;
                cli.Out.WriteLine(args.Json ? json : Format(json, colour));
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (IOException) when (args.Has("tail"))
        {
            throw new CliException("The log stream ended: the Paas API went away.");
        }
        return 0;
    }

    /// <summary>One API line (JSON) as Heroku prints it; the tag coloured by source on a terminal.</summary>
    public static string Format(string json, bool colour)
    {
        var line = ToLine(json);
        if (!colour)
            return line.ToHerokuFormat();
        var code = line.Source switch
        {
            LogSource.App => "36",
            LogSource.Router => "35",
            LogSource.Staging => "33",
            _ => "32",
        };
        var plain = line.ToHerokuFormat();
        var tagAt = plain.IndexOf(' ') + 1;
        return $"{plain[..tagAt]}\u001b[{code}m{line.Tag}\u001b[0m{plain[(tagAt + line.Tag.Length)..]}";
    }

    public static AppLogLine ToLine(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var e = doc.RootElement;
        return new AppLogLine(
            e.GetProperty("time").GetDateTimeOffset(),
            e.GetProperty("source").GetString() ?? "",
            e.GetProperty("process").GetString() ?? "",
            e.GetProperty("line").GetString() ?? "")
        {
            Id = e.TryGetProperty("id", out var id) ? id.GetString() ?? "" : "",
        };
    }
}
