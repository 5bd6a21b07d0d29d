using System.Security.Cryptography;
using Paas.Controller.Cells;
using Paas.Controller.Releases;
using Paas.Controller.State;
using Paas.Core.Addons;

namespace Paas.Controller.Addons;

/// <summary>
/// Creating, listing and destroying add-ons, shared by the Paas API and the Heroku API. An add-on is a server
/// container on a cell with its data on that cell's volume; its URL (with credentials generated here) reaches the
/// app as a config var, so attaching and detaching are ordinary config releases.
/// </summary>
public sealed partial class AddonService(IStateStore db, CellDirectory cells, ReleaseService releases, RandomNumberGenerator random, TimeProvider time, ILogger<AddonService> logger)
{
    /// <summary>How long a new server may take to accept connections (PostgreSQL's first start runs initdb).</summary>
    public static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(90);

    public async Task<AddonView> CreateAsync(string app, string service, string actor, Func<string, Task> output, CancellationToken ct)
    {
        var (kind, plan, problem) = AddonKind.Parse(service);
        if (kind is null)
            throw new AddonException(StatusCodes.Status422UnprocessableEntity, "invalid_service", problem!);
        if (db.Addons(app).FirstOrDefault(a => a.ConfigVar == kind.ConfigVar) is { } existing)
            throw new AddonException(StatusCodes.Status409Conflict, "conflict",
                $"{app} already has {kind.ConfigVar} from add-on {existing.Id}; destroy that one first (`paas addons:destroy {existing.Id} -a {app} --confirm {app}`).");
        var memoryMb = kind.PlansMb[plan];
        var (cell, reason) = await cells.PlaceAsync(app, memoryMb * 1024L * 1024L, [], []);
        if (cell is not RemoteCell remote)
            throw new AddonException(StatusCodes.Status503ServiceUnavailable, "no_cell", $"No cell can run the add-on: {reason ?? "no cell is live"}.");
        var suffix = Hex(4);
        var record = new AddonRecord(
            Id: $"{kind.Name}-{suffix}",
            App: app,
            Kind: kind.Name,
            Plan: plan,
            MemoryMb: memoryMb,
            Cell: remote.Name,
            ConfigVar: kind.ConfigVar,
            User: "u" + suffix,
            Password: Hex(24),
            Database: "d" + suffix,
            CreatedAt: time.GetUtcNow());
        db.SaveAddon(record);
        await output($"Creating {record.Id} ({kind.Name}:{plan}, {memoryMb} MB) on cell {remote.Name}");
        try
        {
            await remote.StartAddonAsync(SpecOf(record), ct);
            await WaitReadyAsync(remote, record.Id, ct);
            await output($"{record.Id} accepts connections; setting {kind.ConfigVar} on {app}");
            db.AddEvent(app, actor, "addon", $"Add-on {record.Id} ({kind.Name}:{plan}) created on cell {remote.Name}");
            await releases.SetConfigAsync(app, new Dictionary<string, string?> { [kind.ConfigVar] = UrlOf(record) }, actor, output, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // Nothing half-made stays: no server, no volume, no record (the app's config was not changed, or the release failed and kept the old).
            logger.LogWarning("Creating add-on {Addon} for {App} failed: {Error}", record.Id, app, e.Message);
            await RemoveServerQuietlyAsync(record);
            db.DeleteAddon(record.Id);
            throw e is AddonException ? e : new AddonException(StatusCodes.Status503ServiceUnavailable, "addon_failed", $"Creating {record.Id} failed: {e.Message.TrimEnd('.')}.");
        }
        return (await ListAsync(app, ct)).First(v => v.Id == record.Id);
    }

    public async Task<IReadOnlyList<AddonView>> ListAsync(string? app, CancellationToken ct)
    {
        // An app's list holds its own add-ons and those other apps share with it (under the var it got).
        var records = app is null ? db.Addons() : db.Addons().Where(r => r.App == app || r.Attachments.Any(a => a.App == app)).ToList();
        var states = await StatesAsync(records, ct);
        return records.Select(r => ViewOf(r, states.TryGetValue(r.Cell, out var s) ? s : null, app)).ToList();
    }

    /// <summary>Unsets the app's var (a new release without it), then removes the server and its volume, then the record.</summary>
    public async Task DestroyAsync(string app, string nameOrId, string? confirm, string actor, Func<string, Task> output, CancellationToken ct)
    {
        var record = Find(app, nameOrId);
        if (confirm != app)
            throw new AddonException(StatusCodes.Status409Conflict, "confirmation_required",
                $"Destroying {record.Id} deletes its data for good; to proceed, confirm with the app's name: --confirm {app}.");
        // Refused rather than detaching: another app would lose its database without its owner having asked.
        if (record.Attachments.Count > 0)
            throw new AddonException(StatusCodes.Status409Conflict, "attached_elsewhere",
                $"{record.Id} is attached to {string.Join(", ", record.Attachments.Select(a => $"{a.App} as {a.ConfigVar}"))}; detach it first (`paas addons:detach {record.Id} -a {record.Attachments[0].App}`), nothing was changed.");
        if (await cells.FindAsync(record.Cell) is not RemoteCell remote)
            throw new AddonException(StatusCodes.Status503ServiceUnavailable, "cell_unavailable",
                $"Cell {record.Cell}, which holds {record.Id}'s volume, is not live; nothing was changed. Destroy it once the cell is back.");
        if (db.Config(app).TryGetValue(record.ConfigVar, out var value) && value == UrlOf(record))
            await releases.SetConfigAsync(app, new Dictionary<string, string?> { [record.ConfigVar] = null }, actor, output, ct);
        // The record goes first, so the add-on converger never starts the server again while it is being removed.
        db.DeleteAddon(record.Id);
        await output($"Removing {record.Id}'s server and volume on cell {record.Cell}");
        await remote.RemoveAddonAsync(record.Id, volume: true, ct);
        db.AddEvent(app, actor, "addon", $"Add-on {record.Id} destroyed (server and volume removed)");
    }

    /// <summary>
    /// When the app is destroyed: every add-on's server and volume go (no config release: the app is going too);
    /// apps it was shared with lose the var (a release each), and add-ons it was given by others forget it.
    /// </summary>
    public async Task RemoveAllAsync(string app)
    {
        foreach (var record in db.Addons(app))
        {
            db.DeleteAddon(record.Id);
            foreach (var attachment in record.Attachments)
                await UnsetQuietlyAsync(attachment, record, "platform");
            await RemoveServerQuietlyAsync(record);
        }
        foreach (var record in db.Addons().Where(r => r.Attachments.Any(a => a.App == app)))
            db.SaveAddon(record with { Attachments = record.Attachments.Where(a => a.App != app).ToList() });
    }

    /// <summary>
    /// Shares an add-on of another app with <paramref name="app"/> under <paramref name="asVar"/> (the kind's var by
    /// default): its URL is set there, a config release like any other. <paramref name="canSee"/> says which apps'
    /// add-ons the caller may attach: only those of apps they can see.
    /// </summary>
    public async Task<AddonView> AttachAsync(string app, string addonId, string? asVar, Func<string, bool> canSee, string actor, Func<string, Task> output, CancellationToken ct)
    {
        var record = db.Addons().FirstOrDefault(a => a.Id == addonId && canSee(a.App))
            ?? throw new AddonException(StatusCodes.Status404NotFound, "not_found", $"There is no add-on {addonId} you can see; `paas addons` lists them by id.");
        var configVar = asVar ?? record.ConfigVar;
        if (!VarPattern().IsMatch(configVar))
            throw new AddonException(StatusCodes.Status422UnprocessableEntity, "invalid_var", $"'{configVar}' is not a config var name (letters, digits and '_', not starting with a digit).");
        if (record.App == app)
            throw new AddonException(StatusCodes.Status409Conflict, "conflict", $"{record.Id} is {app}'s own add-on (in {record.ConfigVar}).");
        if (record.Attachments.FirstOrDefault(a => a.App == app) is { } already)
            throw new AddonException(StatusCodes.Status409Conflict, "conflict", $"{record.Id} is already attached to {app} as {already.ConfigVar}.");
        if (db.Config(app).ContainsKey(configVar))
            throw new AddonException(StatusCodes.Status409Conflict, "conflict", $"{app} already has {configVar}; choose another name with --as.");
        var attachment = new AddonAttachment(app, configVar);
        // Recorded before the release, so a destroy meanwhile is refused; taken back if the release fails.
        db.SaveAddon(record with { Attachments = [.. record.Attachments, attachment] });
        try
        {
            await releases.SetConfigAsync(app, new Dictionary<string, string?> { [configVar] = UrlOf(record) }, actor, output, ct);
        }
        catch
        {
            if (db.Addons().FirstOrDefault(a => a.Id == record.Id) is { } now)
                db.SaveAddon(now with { Attachments = now.Attachments.Where(a => a != attachment).ToList() });
            throw;
        }
        db.AddEvent(app, actor, "addon", $"Add-on {record.Id} of {record.App} attached as {configVar}");
        db.AddEvent(record.App, actor, "addon", $"Add-on {record.Id} attached to {app} as {configVar}");
        return (await ListAsync(app, ct)).First(v => v.Id == record.Id);
    }

    /// <summary>Takes a shared add-on away from <paramref name="app"/>: its var is unset (a release), the add-on and its data stay.</summary>
    public async Task DetachAsync(string app, string addonId, string actor, Func<string, Task> output, CancellationToken ct)
    {
        var record = db.Addons().FirstOrDefault(a => a.Id == addonId && a.Attachments.Any(t => t.App == app))
            ?? throw new AddonException(StatusCodes.Status404NotFound, "not_found",
                db.Addons(app).Any(a => a.Id == addonId)
                    ? $"{addonId} is {app}'s own add-on, not attached; `paas addons:destroy` removes it."
                    : $"{app} has no attached add-on {addonId}; see `paas addons -a {app}`.");
        var attachment = record.Attachments.First(a => a.App == app);
        if (db.Config(app).TryGetValue(attachment.ConfigVar, out var value) && value == UrlOf(record))
            await releases.SetConfigAsync(app, new Dictionary<string, string?> { [attachment.ConfigVar] = null }, actor, output, ct);
        db.SaveAddon(record with { Attachments = record.Attachments.Where(a => a != attachment).ToList() });
        db.AddEvent(app, actor, "addon", $"Add-on {record.Id} of {record.App} detached ({attachment.ConfigVar} unset)");
        db.AddEvent(record.App, actor, "addon", $"Add-on {record.Id} detached from {app}");
    }

    private async Task UnsetQuietlyAsync(AddonAttachment attachment, AddonRecord record, string actor)
    {
        try
        {
            if (db.FindApp(attachment.App) is not null && db.Config(attachment.App).TryGetValue(attachment.ConfigVar, out var value) && value == UrlOf(record))
                await releases.SetConfigAsync(attachment.App, new Dictionary<string, string?> { [attachment.ConfigVar] = null }, actor, _ => Task.CompletedTask, CancellationToken.None);
            db.AddEvent(attachment.App, actor, "addon", $"Add-on {record.Id} was destroyed with its app {record.App}; {attachment.ConfigVar} unset");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("Could not unset {Var} on {App} after destroying {Addon}: {Error}", attachment.ConfigVar, attachment.App, record.Id, e.Message);
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial System.Text.RegularExpressions.Regex VarPattern();

    /// <summary>Runs the service's own client in the add-on's container, as the add-on's user, with <paramref name="input"/> as its input.</summary>
    public async Task<AddonExecResult> ClientAsync(string app, string kindName, string? command, string? input, CancellationToken ct)
    {
        var record = db.Addons(app).FirstOrDefault(a => a.Kind == kindName)
            ?? throw new AddonException(StatusCodes.Status404NotFound, "not_found", $"{app} has no {kindName} add-on; create one with `paas addons:create {kindName} -a {app}`.");
        if (await cells.FindAsync(record.Cell) is not RemoteCell remote)
            throw new AddonException(StatusCodes.Status503ServiceUnavailable, "cell_unavailable", $"Cell {record.Cell}, which runs {record.Id}, is not live.");
        List<string> argv = record.Kind == AddonKind.Postgresql.Name
            ? ["psql", "-X", "-h", "/tmp", "-U", record.User, "-d", record.Database, "-v", "ON_ERROR_STOP=1"]
            : ["redis-cli", "--no-auth-warning", "-a", record.Password];
        if (command is not null)
            argv.AddRange(record.Kind == AddonKind.Postgresql.Name ? ["-c", command] : command.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        return await remote.ExecAddonAsync(record.Id, argv, command is null ? input ?? "" : null, ct);
    }

    public AddonRecord Find(string app, string nameOrId)
    {
        var addons = db.Addons(app);
        var byId = addons.FirstOrDefault(a => a.Id == nameOrId);
        if (byId is not null)
            return byId;
        var byKind = addons.Where(a => a.Kind == (AddonKind.Find(nameOrId)?.Name ?? nameOrId) || a.ConfigVar == nameOrId).ToList();
        return byKind.Count == 1 ? byKind[0]
            : throw new AddonException(StatusCodes.Status404NotFound, "not_found", $"{app} has no add-on {nameOrId}; see `paas addons -a {app}`.");
    }

    public static AddonSpec SpecOf(AddonRecord r) =>
        new(r.Id, r.App, r.Kind, AddonKind.Image, r.MemoryMb * 1024L * 1024L, r.User, r.Password, r.Database);

    public static string UrlOf(AddonRecord r) => AddonKind.Find(r.Kind)!.Url(r.Id, r.User, r.Password, r.Database);

    /// <summary>What each cell holding one of <paramref name="records"/> reports, by cell; a cell that is not live or does not answer is missing.</summary>
    public async Task<Dictionary<string, IReadOnlyList<AddonState>>> StatesAsync(IEnumerable<AddonRecord> records, CancellationToken ct)
    {
        var result = new Dictionary<string, IReadOnlyList<AddonState>>(StringComparer.Ordinal);
        foreach (var name in records.Select(r => r.Cell).Distinct())
        {
            if (await cells.FindAsync(name) is not RemoteCell remote)
                continue;
            try
            {
                result[name] = await remote.ListAddonsAsync(ct);
            }
            catch (Exception e) when (e is CellUnavailableException or Instances.DeployException)
            {
                logger.LogDebug("Cell {Cell} did not list its add-ons: {Error}", name, e.Message);
            }
        }
        return result;
    }

    /// <param name="forApp">The app whose list this is: an add-on attached to it shows the var it got there.</param>
    private static AddonView ViewOf(AddonRecord r, IReadOnlyList<AddonState>? cellStates, string? forApp = null)
    {
        var state = cellStates?.FirstOrDefault(s => s.Id == r.Id);
        var described = cellStates is null ? "cell unavailable"
            : state is null ? "missing"
            : state.Ready ? "available"
            : state.Running ? "starting"
            : $"crashed (exit {state.ExitCode})";
        var kind = AddonKind.Find(r.Kind)!;
        var configVar = r.Attachments.FirstOrDefault(a => a.App == forApp)?.ConfigVar ?? r.ConfigVar;
        return new AddonView(r.Id, r.App, r.Kind, r.Plan, r.MemoryMb, described, r.Cell, $"{AddonKind.ContainerName(r.Id)}:{kind.Port}", state?.SizeBytes, configVar, r.CreatedAt)
        {
            Attachments = r.Attachments,
        };
    }

    private async Task WaitReadyAsync(RemoteCell cell, string id, CancellationToken ct)
    {
        var deadline = time.GetUtcNow() + ReadyTimeout;
        while (true)
        {
            var state = (await cell.ListAddonsAsync(ct)).FirstOrDefault(s => s.Id == id);
            if (state is { Ready: true })
                return;
            if (state is { Running: false })
                throw new AddonException(StatusCodes.Status503ServiceUnavailable, "addon_failed", $"{id}'s server exited with code {state.ExitCode} while starting.");
            if (time.GetUtcNow() >= deadline)
                throw new AddonException(StatusCodes.Status503ServiceUnavailable, "addon_failed", $"{id}'s server did not accept connections within {ReadyTimeout.TotalSeconds:0} s.");
            await Task.Delay(TimeSpan.FromMilliseconds(200), time, ct);
        }
    }

    private async Task RemoveServerQuietlyAsync(AddonRecord record)
    {
        try
        {
            if (await cells.FindAsync(record.Cell) is RemoteCell remote)
                await remote.RemoveAddonAsync(record.Id, volume: true, CancellationToken.None);
        }
        catch (Exception e) when (e is CellUnavailableException or Instances.DeployException)
        {
            logger.LogWarning("Could not remove add-on {Addon}'s server on cell {Cell}: {Error}", record.Id, record.Cell, e.Message);
        }
    }

    private string Hex(int bytes)
    {
        var buffer = new byte[bytes];
        random.GetBytes(buffer);
        return Convert.ToHexStringLower(buffer);
    }
}
