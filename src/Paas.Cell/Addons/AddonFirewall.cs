using System.Diagnostics;
using System.Net;

namespace Paas.Cell.Addons;

/// <summary>
/// The one hole in the isolated network's no-container-to-container rule: an ACCEPT in Docker's DOCKER-USER
/// chain (consulted before the network's own DROP) for the add-on's address and port only, tagged with the
/// add-on's id so it is found again. An add-on's address can change when its container is replaced, so the
/// rule is rewritten whenever the address differs; a stale rule would only open that port on a reused address.
/// </summary>
public static class AddonFirewall
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static readonly Dictionary<string, string> Opened = new(StringComparer.Ordinal); // add-on id -> address:port

    public static async Task OpenAsync(string id, IPAddress address, int port, ILogger logger)
    {
        var target = $"{address}:{port}";
        await Gate.WaitAsync();
        try
        {
            if (Opened.TryGetValue(id, out var known) && known == target && await RunAsync(["-w", "-C", .. Rule(id, address, port)]) == 0)
                return;
            await DeleteTaggedAsync(id);
            var added = await RunAsync(["-w", "-I", .. Rule(id, address, port)]);
            if (added != 0)
                logger.LogWarning("Could not open add-on {Addon} on the isolated network (iptables exited with {Code})", id, added);
            else
                Opened[id] = target;
        }
        finally
        {
            Gate.Release();
        }
    }

    public static async Task CloseAsync(string id)
    {
        await Gate.WaitAsync();
        try
        {
            await DeleteTaggedAsync(id);
            Opened.Remove(id);
        }
        finally
        {
            Gate.Release();
        }
    }

    private static string Tag(string id) => "paas addon " + id;

    private static string[] Rule(string id, IPAddress address, int port) =>
        ["DOCKER-USER", "-d", $"{address}/32", "-p", "tcp", "--dport", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
         "-m", "comment", "--comment", Tag(id), "-j", "ACCEPT"];

    /// <summary>Deletes every rule carrying the add-on's tag, by line number from the bottom up.</summary>
    private static async Task DeleteTaggedAsync(string id)
    {
        var (code, listing) = await RunWithOutputAsync(["-w", "-L", "DOCKER-USER", "-n", "--line-numbers"]);
        if (code != 0)
            return;
        var marker = $"/* {Tag(id)} */";
        var numbers = listing.Split('\n')
            .Where(line => line.Contains(marker, StringComparison.Ordinal))
            .Select(line => int.TryParse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], out var n) ? n : 0)
            .Where(n => n > 0)
            .OrderDescending();
        foreach (var number in numbers)
            await RunAsync(["-w", "-D", "DOCKER-USER", number.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
    }

    private static async Task<int> RunAsync(string[] args) => (await RunWithOutputAsync(args)).Code;

    private static async Task<(int Code, string Output)> RunWithOutputAsync(string[] args)
    {
        var start = new ProcessStartInfo("iptables") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }
}
