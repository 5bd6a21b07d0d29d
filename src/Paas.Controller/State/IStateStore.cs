using Paas.Core.Instances;
using Paas.Core.Routing;

namespace Paas.Controller.State;

/// <summary>
/// The controller's durable desired state: users, tokens (hashes only), apps, collaborators, config vars,
/// releases, deploy records, buildpacks, formation, health checks, settings and events. Actual state (what runs where) is
/// never stored here: it is read back from cells. Two implementations behave the same
/// (<c>tests/Paas.Controller.Tests/State/StateStoreContract.cs</c> runs one set of cases against both):
/// <see cref="PlatformDatabase"/>, an embedded SQLite file (the default), and <see cref="EtcdStateStore"/>,
/// a replicated etcd cluster (<c>PAAS_ETCD_ENDPOINTS</c>) that several controllers can share.
/// A write the store cannot make durable throws <see cref="StateStoreUnavailableException"/>.
/// </summary>
public interface IStateStore
{
    /// <summary>How many events each app keeps by default; older ones are dropped as new ones arrive.</summary>
    const int EventsKeptPerApp = 1000;

    /// <summary>Creates the user; false when one of that name exists.</summary>
    bool TryCreateUser(string name, string role);
    UserRecord? FindUser(string name);
    IReadOnlyList<UserRecord> ListUsers();
    /// <summary>Removes the user, their tokens and collaborations; the caller makes sure they own no app.</summary>
    bool DeleteUser(string name);

    /// <summary>Stores a token by its hash (the token itself is never stored).</summary>
    void AddToken(string id, string hash, string user, string description);
    /// <summary>The token with this hash and its user's current role; null when unknown or its user is gone.</summary>
    TokenRecord? FindTokenByHash(string hash);
    /// <summary>The user's tokens, oldest first.</summary>
    IReadOnlyList<TokenRecord> ListTokens(string user);
    bool DeleteToken(string user, string id);
    bool AnyTokens();

    IReadOnlyList<string> Collaborators(string app);
    bool IsCollaborator(string app, string user);
    /// <summary>False when the user already collaborates on the app.</summary>
    bool AddCollaborator(string app, string user);
    bool RemoveCollaborator(string app, string user);

    IReadOnlyDictionary<string, string> Config(string app);
    /// <summary>Replaces all of the app's config vars at once (used when the app has no release to roll yet).</summary>
    void ReplaceConfig(string app, IReadOnlyDictionary<string, string> config);

    /// <summary>Creates the app owned by <paramref name="owner"/>; false (and the existing app) when an app of that name exists.</summary>
    bool TryCreateApp(string name, string owner, out AppRecord app);
    AppRecord? FindApp(string name);
    /// <summary>All apps by name, or with <paramref name="visibleTo"/> only those that user owns or collaborates on.</summary>
    IReadOnlyList<AppRecord> ListApps(string? visibleTo = null);
    /// <summary>
    /// Moves the app and everything stored under it (releases, release sequence, config, formation, health checks,
    /// buildpacks, routing options, registry logins, events, deploy records, domains, collaborators, volumes, and its
    /// add-ons and attachments, its own and other apps' add-ons attached to it) to <paramref name="newName"/> at once:
    /// a reader sees the app whole under one name or the other, never half moved, and a writer that dies halfway
    /// leaves it whole under the old name. False, with nothing changed, when there is no app <paramref name="name"/>
    /// or an app <paramref name="newName"/> exists. What lives outside the store (routes, repositories, logs,
    /// running instances) is the caller's to move (<see cref="Apps.AppRename"/>); the same write records a
    /// <see cref="RenameRecord"/> so that, should the caller die, another controller finishes that.
    /// </summary>
    bool RenameApp(string name, string newName);
    /// <summary>Renames recorded by <see cref="RenameApp"/> whose follow-ups are not finished, oldest first.</summary>
    IReadOnlyList<RenameRecord> PendingRenames();
    /// <summary>Forgets the pending rename from <paramref name="from"/> (its follow-ups are done).</summary>
    void FinishRename(string from);
    /// <summary>Deletes the app with everything stored under it (releases, config, formation, events, domains, collaborators).</summary>
    bool DeleteApp(string name);

    /// <summary>
    /// Reserves the app's next release version: above every recorded release and every earlier reservation,
    /// so no two callers (in this process or another controller) are ever handed the same number.
    /// A caller that will not record it gives it back with <see cref="ReturnReleaseVersion"/>.
    /// </summary>
    int NextReleaseVersion(string app);
    /// <summary>Gives back a reserved version that no release will carry, if nothing was reserved after it (so a failed push leaves no gap).</summary>
    void ReturnReleaseVersion(string app, int version);
    /// <summary>
    /// Records a release once it runs; with <paramref name="replaceConfig"/>, the app's config vars become
    /// that release's in the same transaction. Throws <see cref="InvalidOperationException"/> when that version is recorded already.
    /// </summary>
    ReleaseRecord AddRelease(ReleaseRecord release, bool replaceConfig = false);
    ReleaseRecord? FindRelease(string app, int version);
    /// <summary>Records the registry digest of a release whose image was still being pushed when it was recorded; false when there is no such release.</summary>
    bool SetReleaseRegistryImage(string app, int version, string registryImage);
    /// <summary>
    /// The release that runs: the newest one, when it has a build. Null before the first deploy, while the app's
    /// releases are only its "Initial release" and config changes (<see cref="ReleaseRecord.HasBuild"/>).
    /// </summary>
    ReleaseRecord? CurrentRelease(string app);
    /// <summary>The app's releases, newest first; <paramref name="before"/> pages back from a version.</summary>
    IReadOnlyList<ReleaseRecord> ListReleases(string app, int limit = 100, int? before = null);

    /// <summary>
    /// Stores a release's build output (<see cref="Releases.BuildOutputs"/> compresses and caps it: etcd refuses requests
    /// over ~1.5 MB), replacing any stored for that version. Kept in the state store so that every controller sharing it
    /// serves `releases:output`, and it goes with its app.
    /// </summary>
    void SaveBuildOutput(string app, int version, byte[] output);
    /// <summary>The stored build output of that release, as <see cref="SaveBuildOutput"/> got it; null when there is none.</summary>
    byte[]? BuildOutput(string app, int version);
    /// <summary>Deletes the app's build outputs of every release not in <paramref name="keep"/> (pruned releases); returns how many went.</summary>
    int PruneBuildOutputs(string app, IReadOnlySet<int> keep);

    /// <summary>
    /// The app's next one-off run number (run.N in its logs, as on Heroku): 1, 2, 3... atomically, so no two runs share
    /// one, whichever controller starts them, and a restarted controller goes on counting. Restarts at 1 for a new app.
    /// </summary>
    int NextRunNumber(string app);

    /// <summary>Stores the deploy's record, replacing the one of the same app and version (each step of a deploy writes its phase).</summary>
    void SaveDeploy(DeployRecord deploy);
    DeployRecord? FindDeploy(string app, int version);
    /// <summary>The app's last <paramref name="limit"/> deploy records, newest version first.</summary>
    IReadOnlyList<DeployRecord> Deploys(string app, int limit = 100);
    /// <summary>Every app's deploys that are not released, failed or rolled back: what a controller that died left half-done.</summary>
    IReadOnlyList<DeployRecord> UnfinishedDeploys();

    /// <summary>The buildpacks chosen for the app (`paas buildpacks:set`), in order; empty means detect.</summary>
    IReadOnlyList<string> Buildpacks(string app);
    void SetBuildpacks(string app, IReadOnlyList<string> buildpacks);

    /// <summary>The app's formation: process type → (quantity, memory per instance in MB or null for the default).</summary>
    IReadOnlyDictionary<string, FormationEntry> Formation(string app);
    /// <summary>Sets quantities; an entry whose memory is null keeps the memory already set.</summary>
    void SetFormation(string app, IEnumerable<FormationEntry> entries);

    /// <summary>The app's routing options (`paas routes:set`, `paas maintenance:on`); <see cref="AppRouteOptions.None"/> when none is set.</summary>
    AppRouteOptions RouteOptions(string app);
    /// <summary>Replaces the app's routing options; the caller publishes them to the routers.</summary>
    void SetRouteOptions(string app, AppRouteOptions options);

    /// <summary>The app's registry logins by registry host (`paas registry:login`); empty when none.</summary>
    IReadOnlyDictionary<string, RegistryCredential> RegistryCredentials(string app);
    /// <summary>Replaces the app's registry logins (all of them: one write).</summary>
    void SetRegistryCredentials(string app, IReadOnlyDictionary<string, RegistryCredential> credentials);

    HealthCheckSpec? HealthCheck(string app, string process);
    void SetHealthCheck(string app, string process, HealthCheckSpec spec);

    /// <summary>The setting's value; the first caller to find none stores what <paramref name="create"/> makes, and every caller gets that one.</summary>
    string GetOrCreateSetting(string key, Func<string> create);

    /// <summary>
    /// Raised in the process that stored the event (not in other controllers sharing the store): its one
    /// consumer posts the event to the app's log, which every controller shares, so raising it everywhere
    /// would post each line once per controller.
    /// </summary>
    event Action<EventRecord>? EventAdded;
    void AddEvent(string app, string actor, string kind, string message);
    /// <summary>The app's last <paramref name="limit"/> events, oldest first.</summary>
    IReadOnlyList<EventRecord> Events(string app, int limit);

    /// <summary>Every add-on, or with <paramref name="app"/> that app's, oldest first.</summary>
    IReadOnlyList<AddonRecord> Addons(string? app = null);
    /// <summary>Stores the add-on, replacing the one with the same id.</summary>
    void SaveAddon(AddonRecord addon);
    /// <summary>False when there was no such add-on.</summary>
    bool DeleteAddon(string id);

    /// <summary>The app's volume mounts (`paas storage:mount`), by process type then path.</summary>
    IReadOnlyList<VolumeRecord> Volumes(string app);
    /// <summary>Stores the mount, replacing the one with the same app and volume name.</summary>
    void SaveVolume(VolumeRecord volume);
    /// <summary>False when the app had no such volume.</summary>
    bool DeleteVolume(string app, string volume);

    /// <summary>
    /// The apps whose desired state was written after <paramref name="since"/> (a release, the formation, config vars,
    /// routing options, a health check, the app's deletion), and the stamp to ask from next time. Stamps only grow,
    /// whichever controller wrote, and a write is stamped in the same transaction (or right after it), so a caller that
    /// passes back the stamp it was given misses no change: the converger's incremental pass works from this.
    /// </summary>
    (IReadOnlyList<string> Apps, long Stamp) AppsChangedSince(long since);

    /// <summary>Every app's <see cref="CurrentRelease"/> in one read, for a full pass (apps without one are absent).</summary>
    IReadOnlyDictionary<string, ReleaseRecord> CurrentReleases();

    /// <summary>Every app's <see cref="Formation"/> in one read, for a full pass (apps without one are absent).</summary>
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, FormationEntry>> Formations();

    /// <summary>Every app's <see cref="RouteOptions"/> in one read, for a full pass (apps with none set are absent).</summary>
    IReadOnlyDictionary<string, AppRouteOptions> AllRouteOptions();

    /// <summary>For /healthz: throws when the store cannot serve (the file is gone, the cluster has no quorum).</summary>
    void Ping();
}
