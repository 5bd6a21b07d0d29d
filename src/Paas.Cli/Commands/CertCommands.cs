using System.Text.Json;

namespace Paas.Cli.Commands;

/// <summary>`paas certs[:add|:auto:enable|:auto:disable]`: HTTPS certificates for an app's custom domains.</summary>
public static class CertCommands
{
    public static IEnumerable<CliCommand> All() =>
    [
        new("certs", "list the certificate of each custom domain: source, expiry, and automatic issuance state or error", "paas certs [-a APP] [--json]", ListAsync) { Options = Opt.AppScoped(Opt.Json) },
        new("certs:add", "serve the app's domains that a PEM certificate covers with it", "paas certs:add CERT_FILE KEY_FILE [-a APP] [--json]", AddAsync) { Arguments = [new("CERT_FILE", "the PEM certificate (with its chain)"), new("KEY_FILE", "its PEM private key")], Options = Opt.AppScoped(Opt.Json) },
        new("certs:auto:enable", "obtain and renew certificates for the app's domains from the ACME directory (Let's Encrypt)", "paas certs:auto:enable [-a APP] [--json]",
            (args, cli) => AutoAsync(args, cli, on: true)) { Options = Opt.AppScoped(Opt.Json) },
        new("certs:auto:disable", "stop renewing the app's certificates automatically", "paas certs:auto:disable [-a APP] [--json]",
            (args, cli) => AutoAsync(args, cli, on: false)) { Options = Opt.AppScoped(Opt.Json) },
        new("certs:redirect:enable", "redirect the app's plain-HTTP requests to HTTPS (308; ACME challenges excepted)", "paas certs:redirect:enable [-a APP] [--json]",
            (args, cli) => RedirectAsync(args, cli, on: true)) { Options = Opt.AppScoped(Opt.Json) },
        new("certs:redirect:disable", "serve the app over plain HTTP again", "paas certs:redirect:disable [-a APP] [--json]",
            (args, cli) => RedirectAsync(args, cli, on: false)) { Options = Opt.AppScoped(Opt.Json) },
    ];

    private static async Task<int> RedirectAsync(ParsedArgs args, CliContext cli, bool on)
    {
        var app = cli.ResolveApp(args);
        var routing = await cli.Api.PatchAsync($"v1/apps/{Uri.EscapeDataString(app)}/routing", new { https_redirect = on });
        if (args.Json)
        {
            cli.WriteJson(routing);
            return 0;
        }
        cli.Out.WriteLine(on
            ? $"Redirecting {app}'s plain-HTTP requests to HTTPS... done"
            : $"Serving {app} over plain HTTP again... done");
        return 0;
    }

    private static string PathOf(string app) => $"v1/apps/{Uri.EscapeDataString(app)}/certs";

    private static async Task<int> ListAsync(ParsedArgs args, CliContext cli)
    {
        var app = cli.ResolveApp(args);
        var certs = await cli.Api.GetAsync(PathOf(app));
        if (args.Json)
        {
            cli.WriteJson(certs);
            return 0;
        }
        Print(cli, app, certs);
        return 0;
    }

    private static void Print(CliContext cli, string app, JsonElement certs)
    {
        var rows = certs.GetProperty("certificates");
        var auto = certs.GetProperty("auto").GetBoolean();
        if (rows.GetArrayLength() == 0)
        {
            cli.Out.WriteLine($"{app} has no custom domains. Add one with: paas domains:add www.example.com -a {app}");
            return;
        }
        cli.WriteHeading($"{app} Certificates (automatic: {(auto ? "on" : "off")})");
        foreach (var row in rows.EnumerateArray())
        {
            var expires = row.GetProperty("not_after") is { ValueKind: JsonValueKind.String } n ? $"expires {n.GetDateTimeOffset():yyyy-MM-dd}" : "no certificate";
            var source = row.GetProperty("source") is { ValueKind: JsonValueKind.String } s ? s.GetString() : "-";
            var state = row.GetProperty("state").GetString();
            cli.Out.WriteLine($"{row.GetProperty("hostname").GetString(),-40} {source,-5} {expires,-20} {state}");
            if (row.GetProperty("error") is { ValueKind: JsonValueKind.String } error)
                cli.Out.WriteLine($"    {error.GetString()}");
        }
    }

    private static async Task<int> AddAsync(ParsedArgs args, CliContext cli)
    {
        if (args.Positionals.Count != 2)
            throw new CliException("Name the certificate and key files: paas certs:add server.crt server.key", 2);
        var app = cli.ResolveApp(args);
        var certificate = Read(args.Positionals[0], "certificate");
        var key = Read(args.Positionals[1], "private key");
        var added = await cli.Api.PostAsync(PathOf(app), new { certificate, private_key = key });
        if (args.Json)
        {
            cli.WriteJson(added);
            return 0;
        }
        var hostnames = string.Join(", ", added.GetProperty("hostnames").EnumerateArray().Select(h => h.GetString()));
        cli.Out.WriteLine($"Adding a certificate to {app}... done: {hostnames}, expires {added.GetProperty("not_after").GetDateTimeOffset():yyyy-MM-dd}");
        return 0;
    }

    private static string Read(string path, string what)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"Cannot read the {what} file {path}: {ex.Message}", 1);
        }
    }

    private static async Task<int> AutoAsync(ParsedArgs args, CliContext cli, bool on)
    {
        var app = cli.ResolveApp(args);
        var certs = on ? await cli.Api.PostAsync($"{PathOf(app)}/auto", new { }) : await cli.Api.DeleteAsync($"{PathOf(app)}/auto");
        if (args.Json)
        {
            cli.WriteJson(certs);
            return 0;
        }
        cli.Out.WriteLine(on
            ? $"Enabling automatic certificates for {app}... done. Each domain must resolve to the router's HTTP port 80; see progress with: paas certs -a {app}"
            : $"Disabling automatic certificates for {app}... done. Certificates already served stay until they expire.");
        return 0;
    }
}
