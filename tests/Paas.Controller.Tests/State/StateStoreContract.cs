using Paas.Controller.State;
using Paas.Core.Instances;
using Paas.Core.Routing;

namespace Paas.Controller.Tests.State;

/// <summary>
/// What every <see cref="IStateStore"/> and <see cref="IDomainStore"/> must do, written once and run against
/// each implementation (SQLite: <see cref="SqliteStateStoreTests"/>; a three-member etcd cluster:
/// <see cref="EtcdStateStoreTests"/>). "Two instances" are two store objects over the same data, as two
/// controllers (or two connections) would have.
/// </summary>
public abstract class StateStoreContract
{
    /// <summary>A new store object over this test's data (each call is another connection/client, as another controller's).</summary>
    protected abstract (IStateStore State, IDomainStore Domains) Open(int eventsKept = IStateStore.EventsKeptPerApp);

    private static ReleaseRecord Release(string app, int version) =>
        new(app, version, $"paas/app-{app}:v{version}", "abc1234", "static", new Dictionary<string, string> { ["web"] = "serve" }, DateTimeOffset.UnixEpoch)
        {
            Config = new Dictionary<string, string> { ["V"] = version.ToString() },
            Description = $"Deploy v{version}",
        };

    [Fact]
    public async Task NextReleaseVersion_FromTwoInstancesAtOnce_NeverHandsOutAVersionTwice()
    {
        var (a, _) = Open();
        var (b, _) = Open();
        a.TryCreateApp("busy", "alice", out _);

        var versions = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(() =>
        {
            var store = i % 2 == 0 ? a : b;
            var version = store.NextReleaseVersion("busy");
            store.AddRelease(Release("busy", version));
            return version;
        })));

        Assert.Equal(Enumerable.Range(1, 16), versions.Order());
        Assert.Equal(Enumerable.Range(1, 16).Reverse(), b.ListReleases("busy").Select(r => r.Version));
        Assert.Equal(16, a.CurrentRelease("busy")!.Version);
    }

    [Fact]
    public void Addons_AreStoredListedByAppAndDeleted_FromAnotherInstanceToo()
    {
        var (a, _) = Open();
        var (b, _) = Open();
        AddonRecord Addon(string id, string app, int minute) =>
            new(id, app, "postgresql", "hobby", 256, "cell-a", "DATABASE_URL", "u" + id, "secret-" + id, "d" + id, DateTimeOffset.UnixEpoch.AddMinutes(minute));
        a.SaveAddon(Addon("pg-2", "shop", 2));
        a.SaveAddon(Addon("pg-1", "shop", 1));
        a.SaveAddon(Addon("pg-3", "blog", 3));
        a.SaveAddon(Addon("pg-1", "shop", 1) with { Cell = "cell-b" });

        Assert.Equal(["pg-1", "pg-2", "pg-3"], b.Addons().Select(x => x.Id));
        Assert.Equal(["pg-1", "pg-2"], b.Addons("shop").Select(x => x.Id));
        Assert.Equal(Addon("pg-1", "shop", 1) with { Cell = "cell-b" }, b.Addons("shop")[0]);
        Assert.True(b.DeleteAddon("pg-1"));
        Assert.False(a.DeleteAddon("pg-1"));
        Assert.Equal(["pg-2", "pg-3"], a.Addons().Select(x => x.Id));
    }

    [Fact]
    public void Addons_KeepAttachmentsAndBackupSchedule()
    {
        var (a, _) = Open();
        var (b, _) = Open();
        var addon = new AddonRecord("pg-9", "shop", "postgresql", "hobby", 256, "cell-a", "DATABASE_URL", "u9", "s9", "d9", DateTimeOffset.UnixEpoch)
        {
            Attachments = [new AddonAttachment("blog", "SHOP_DATABASE_URL")],
            BackupSchedule = new Paas.Controller.Addons.BackupSchedule("02:00", 5, DateTimeOffset.UnixEpoch, null),
        };
        a.SaveAddon(addon);

        Assert.Equal(addon, b.Addons("shop").Single());
        Assert.Equal("SHOP_DATABASE_URL", b.Addons("shop").Single().Attachments.Single().ConfigVar);
    }

    [Fact]
    public void Volumes_AreStoredByApp_ReplacedByName_DeletedAndGoneWithTheApp()
    {
        var (a, _) = Open();
        var (b, _) = Open();
        a.TryCreateApp("shop", "alice", out _);
        var data = new VolumeRecord("shop", "web", "/data", "paas-vol-shop-web-1", null, false, DateTimeOffset.UnixEpoch);
        var cache = new VolumeRecord("shop", "worker", "/cache", "paas-vol-shop-worker-2", null, true, DateTimeOffset.UnixEpoch);
        a.SaveVolume(cache);
        a.SaveVolume(data);
        a.SaveVolume(data with { Cell = "cell-a" });

        Assert.Equal([data with { Cell = "cell-a" }, cache], b.Volumes("shop"));
        Assert.Empty(b.Volumes("blog"));
        Assert.True(b.DeleteVolume("shop", cache.Volume));
        Assert.False(a.DeleteVolume("shop", cache.Volume));
        Assert.True(a.DeleteApp("shop"));
        a.TryCreateApp("shop", "alice", out _);
        Assert.Empty(b.Volumes("shop"));
    }

    [Fact]
    public void ReturnReleaseVersion_LeavesNoGap_UnlessALaterVersionWasReserved()
    {
        var (store, _) = Open();
        store.TryCreateApp("gaps", "alice", out _);
        store.AddRelease(Release("gaps", store.NextReleaseVersion("gaps")));

        var failed = store.NextReleaseVersion("gaps");
        store.ReturnReleaseVersion("gaps", failed);
        var next = store.NextReleaseVersion("gaps");
        var later = store.NextReleaseVersion("gaps");
        store.ReturnReleaseVersion("gaps", next); // not the last one handed out: nothing changes

        Assert.Equal((2, 2, 3), (failed, next, later));
        Assert.Equal(4, store.NextReleaseVersion("gaps"));
    }

    [Fact]
    public void CurrentRelease_IsNull_WhileTheAppHasOnlyReleasesWithoutABuild_ThenTheNewestBuild()
    {
        var (store, _) = Open();
        store.TryCreateApp("early", "alice", out _);
        store.AddRelease(ReleaseRecord.Initial("early", store.NextReleaseVersion("early"), DateTimeOffset.UnixEpoch));
        store.AddRelease(new ReleaseRecord("early", store.NextReleaseVersion("early"), "", "", "", new Dictionary<string, string>(), DateTimeOffset.UnixEpoch)
        {
            Config = new Dictionary<string, string> { ["EARLY"] = "1" },
            Description = "Set EARLY config var",
        }, replaceConfig: true);

        Assert.Null(store.CurrentRelease("early"));
        Assert.Equal([2, 1], store.ListReleases("early").Select(r => r.Version));
        Assert.All(store.ListReleases("early"), r => Assert.False(r.HasBuild));

        store.AddRelease(Release("early", store.NextReleaseVersion("early")));

        Assert.Equal(3, store.CurrentRelease("early")!.Version);
    }

    [Fact]
    public void AddRelease_OfARecordedVersion_IsRefused_AndReplacesConfigOnlyWhenAsked()
    {
        var (store, _) = Open();
        store.TryCreateApp("rel", "alice", out _);
        store.ReplaceConfig("rel", new Dictionary<string, string> { ["KEEP"] = "1" });
        store.AddRelease(Release("rel", 1));
        Assert.Equal(["KEEP"], store.Config("rel").Keys);

        store.AddRelease(Release("rel", 2), replaceConfig: true);

        Assert.Equal(new Dictionary<string, string> { ["V"] = "2" }, store.Config("rel"));
        Assert.Throws<InvalidOperationException>(() => store.AddRelease(Release("rel", 2)));
        var found = store.FindRelease("rel", 2)!;
        Assert.Equal(("paas/app-rel:v2", "Deploy v2", "serve"), (found.Image, found.Description, found.ProcessTypes["web"]));
        Assert.Equal([1], store.ListReleases("rel", before: 2).Select(r => r.Version));
        Assert.Null(store.FindRelease("rel", 3));
    }

    [Fact]
    public void DeployRecords_AreReplacedStepByStep_SeenByAnotherInstance_AndGoWithTheirApp()
    {
        var (a, _) = Open();
        var (b, _) = Open();
        a.TryCreateApp("dep", "alice", out _);
        a.TryCreateApp("other", "alice", out _);
        var at = DateTimeOffset.UnixEpoch;
        var staging = new DeployRecord("dep", 1, DeployPhase.Staging, "abc1234", at, at);
        a.SaveDeploy(staging);
        a.SaveDeploy(new DeployRecord("other", 1, DeployPhase.Staging, "def5678", at, at));
        a.SaveDeploy(staging with { Version = 2, Phase = DeployPhase.Rolling, Release = Release("dep", 2), Resumed = true });
        a.SaveDeploy(staging with { Phase = DeployPhase.Failed, Reason = "The cell ran out of disk space." });

        Assert.Equal([("dep", 2), ("other", 1)], b.UnfinishedDeploys().Select(d => (d.App, d.Version)).OrderBy(d => d.App));
        Assert.Equal([2, 1], b.Deploys("dep").Select(d => d.Version));
        var rolling = b.FindDeploy("dep", 2)!;
        Assert.Equal((DeployPhase.Rolling, true, "paas/app-dep:v2", "serve", "2"),
            (rolling.Phase, rolling.Resumed, rolling.Release!.Image, rolling.Release.ProcessTypes["web"], rolling.Release.Config["V"]));
        Assert.Equal((DeployPhase.Failed, "The cell ran out of disk space."), (b.FindDeploy("dep", 1)!.Phase, b.FindDeploy("dep", 1)!.Reason));
        Assert.Null(b.FindDeploy("dep", 3));

        b.DeleteApp("dep");
        Assert.Equal(["other"], a.UnfinishedDeploys().Select(d => d.App));
        Assert.Empty(a.Deploys("dep"));
    }

    [Fact]
    public async Task TryCreateApp_FromTwoInstancesAtOnce_CreatesItOnce()
    {
        var (a, _) = Open();
        var (b, _) = Open();

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() =>
        {
            var created = (i % 2 == 0 ? a : b).TryCreateApp("contested", $"user{i}", out var app);
            return (Created: created, app.Owner);
        })));

        Assert.Single(results, r => r.Created);
        var owner = results.Single(r => r.Created).Owner;
        Assert.All(results, r => Assert.Equal(owner, r.Owner));
        Assert.Equal(owner, b.FindApp("contested")!.Owner);
        Assert.Equal(["contested"], a.ListApps().Select(x => x.Name));
    }

    [Fact]
    public void Tokens_AreFoundByHash_WithTheirUsersCurrentRole_AndGoWithTheirUser()
    {
        var (store, _) = Open();
        Assert.False(store.AnyTokens());
        Assert.True(store.TryCreateUser("alice", "user"));
        Assert.False(store.TryCreateUser("alice", "admin"));
        store.AddToken("t1", "hash-one", "alice", "laptop");
        store.AddToken("t2", "hash-two", "alice", "ci");

        var found = store.FindTokenByHash("hash-two")!;

        Assert.Equal(("t2", "alice", "user", "ci"), (found.Id, found.User, found.Role, found.Description));
        Assert.Null(store.FindTokenByHash("hash-unknown"));
        Assert.True(store.AnyTokens());
        Assert.Equal(["t1", "t2"], store.ListTokens("alice").Select(t => t.Id));
        Assert.True(store.DeleteToken("alice", "t1"));
        Assert.False(store.DeleteToken("alice", "t1"));
        Assert.Null(store.FindTokenByHash("hash-one"));

        Assert.True(store.DeleteUser("alice"));

        Assert.Null(store.FindTokenByHash("hash-two"));
        Assert.Null(store.FindUser("alice"));
        Assert.Empty(store.ListUsers());
    }

    [Fact]
    public void ReplaceConfig_ReplacesEveryVar()
    {
        var (store, _) = Open();
        store.TryCreateApp("cfg", "alice", out _);
        store.ReplaceConfig("cfg", new Dictionary<string, string> { ["A"] = "1", ["B"] = "2" });

        store.ReplaceConfig("cfg", new Dictionary<string, string> { ["C"] = "3", ["B"] = "two" });

        Assert.Equal(new Dictionary<string, string> { ["B"] = "two", ["C"] = "3" }, Open().State.Config("cfg"));
        Assert.Empty(store.Config("other"));
    }

    [Fact]
    public void Events_ComeOldestFirst_LimitedToTheNewest_AndRaiseEventAdded()
    {
        var (store, _) = Open();
        store.TryCreateApp("ev", "alice", out _);
        var raised = new List<string>();
        store.EventAdded += e => raised.Add(e.Message);

        for (var i = 1; i <= 5; i++)
            store.AddEvent("ev", "alice", "release", $"event {i}");

        Assert.Equal(["event 3", "event 4", "event 5"], Open().State.Events("ev", 3).Select(e => e.Message));
        Assert.Equal(5, store.Events("ev", 100).Count);
        Assert.Equal(["event 1", "event 2", "event 3", "event 4", "event 5"], raised);
        Assert.Empty(store.Events("other", 10));
    }

    [Fact]
    public void Events_AreBoundedPerApp()
    {
        var (store, _) = Open(eventsKept: 20);
        store.TryCreateApp("chatty", "alice", out _);

        for (var i = 1; i <= 23; i++)
            store.AddEvent("chatty", "platform", "crash", $"event {i}");

        var kept = store.Events("chatty", int.MaxValue);
        Assert.Equal(20, kept.Count);
        Assert.Equal(("event 4", "event 23"), (kept[0].Message, kept[^1].Message));
    }

    [Fact]
    public void Domains_AreUniqueAndNeverOverlapAnotherApps()
    {
        var (state, domains) = Open();
        state.TryCreateApp("shop", "alice", out _);
        state.TryCreateApp("blog", "bob", out _);

        Assert.True(domains.TryAdd("shop", "*.example.com", out _));
        Assert.True(domains.TryAdd("shop", "www.example.com", out _)); // its own names may overlap
        Assert.False(domains.TryAdd("shop", "www.example.com", out var again));
        Assert.False(domains.TryAdd("blog", "www.example.com", out var same));
        Assert.False(domains.TryAdd("blog", "example.com", out var parent));
        Assert.True(domains.TryAdd("blog", "blog.example.org", out _));

        Assert.Equal(("shop", "www.example.com"), (again.App, again.Hostname));
        Assert.Equal(("shop", "www.example.com"), (same.App, same.Hostname));
        Assert.Equal("shop", parent.App);
        Assert.Equal(["*.example.com", "www.example.com"], domains.ListForApp("shop").Select(d => d.Hostname));
        Assert.Equal("blog", domains.Find("blog.example.org")!.App);
        Assert.False(domains.Remove("shop", "blog.example.org"));
        Assert.True(domains.Remove("blog", "blog.example.org"));
        Assert.Null(domains.Find("blog.example.org"));
    }

    [Fact]
    public async Task Domains_OverlappingNamesAddedAtOnceByTwoApps_OnlyOneWins()
    {
        var (state, _) = Open();
        for (var i = 0; i < 6; i++)
            state.TryCreateApp($"app{i}", "alice", out _);

        // Six apps, six names that all overlap one another, two store instances.
        string[] names = ["example.net", "*.example.net", "www.example.net", "a.www.example.net", "*.www.example.net", "b.a.www.example.net"];
        var stores = new[] { Open().Domains, Open().Domains };
        var added = await Task.WhenAll(names.Select((name, i) => Task.Run(() => stores[i % 2].TryAdd($"app{i}", name, out _))));

        Assert.Single(added, a => a);
    }

    [Fact]
    public async Task NextRunNumber_CountsPerAppFromOne_AcrossInstancesAtOnce_GoesOnInANewInstance_AndRestartsForANewApp()
    {
        var (a, _) = Open();
        var (b, _) = Open();
        a.TryCreateApp("runs", "alice", out _);
        a.TryCreateApp("other", "alice", out _);

        var numbers = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Task.Run(() => (i % 2 == 0 ? a : b).NextRunNumber("runs"))));

        Assert.Equal(Enumerable.Range(1, 12), numbers.Order());
        Assert.Equal(1, b.NextRunNumber("other"));
        // A restarted controller (a new store object over the same data) goes on counting.
        var (restarted, _) = Open();
        Assert.Equal(13, restarted.NextRunNumber("runs"));
        Assert.True(restarted.DeleteApp("runs"));
        restarted.TryCreateApp("runs", "alice", out _);
        Assert.Equal(1, a.NextRunNumber("runs"));
    }

    [Fact]
    public void BuildOutputs_AreReadByAnotherInstance_PrunedToTheKeptVersions_AndGoWithTheApp()
    {
        var (a, _) = Open();
        var (b, _) = Open();
        a.TryCreateApp("built", "alice", out _);
        a.TryCreateApp("other", "alice", out _);
        byte[] Output(int version) => [.. Enumerable.Range(0, 300).Select(i => (byte)(i * version))];
        foreach (var version in new[] { 2, 3, 4, 5 })
            a.SaveBuildOutput("built", version, Output(version));
        a.SaveBuildOutput("built", 5, Output(7));
        a.SaveBuildOutput("other", 2, Output(2));

        Assert.Equal(Output(2), b.BuildOutput("built", 2));
        Assert.Equal(Output(7), b.BuildOutput("built", 5));
        Assert.Null(b.BuildOutput("built", 1));

        Assert.Equal(2, b.PruneBuildOutputs("built", new HashSet<int> { 3, 5, 6 }));
        Assert.Equal(0, a.PruneBuildOutputs("built", new HashSet<int> { 3, 5 }));
        Assert.Null(a.BuildOutput("built", 2));
        Assert.Null(a.BuildOutput("built", 4));
        Assert.Equal(Output(3), a.BuildOutput("built", 3));
        Assert.Equal(Output(2), a.BuildOutput("other", 2));

        Assert.True(a.DeleteApp("built"));
        a.TryCreateApp("built", "alice", out _);
        Assert.Null(b.BuildOutput("built", 3));
    }

    [Fact]
    public void DeleteApp_TakesEverythingOfTheAppWithIt()
    {
        var (store, domains) = Open();
        store.TryCreateUser("bob", "user");
        store.TryCreateApp("gone", "alice", out _);
        store.TryCreateApp("kept", "alice", out _);
        store.AddCollaborator("gone", "bob");
        store.AddRelease(Release("gone", store.NextReleaseVersion("gone")), replaceConfig: true);
        store.SetFormation("gone", [new FormationEntry("web", 2, 256)]);
        store.AddEvent("gone", "alice", "release", "Released v1");
        domains.TryAdd("gone", "gone.example.com", out _);

        Assert.True(store.DeleteApp("gone"));

        Assert.False(store.DeleteApp("gone"));
        Assert.Null(store.FindApp("gone"));
        Assert.Empty(store.ListReleases("gone"));
        Assert.Empty(store.Config("gone"));
        Assert.Empty(store.Formation("gone"));
        Assert.Empty(store.Events("gone", 10));
        Assert.Empty(store.Collaborators("gone"));
        Assert.Empty(store.ListApps(visibleTo: "bob"));
        Assert.Null(domains.Find("gone.example.com"));
        Assert.True(store.TryCreateApp("gone", "bob", out _));
        Assert.Equal(1, store.NextReleaseVersion("gone"));
    }

    [Fact]
    public void RenameApp_MovesEverythingOfTheApp_SeenByAnotherInstance_AndFreesTheOldName()
    {
        var (a, domains) = Open();
        var (b, otherDomains) = Open();
        a.TryCreateUser("bob", "user");
        a.TryCreateApp("old", "alice", out var created);
        a.TryCreateApp("other", "alice", out _);
        a.AddCollaborator("old", "bob");
        // More releases and events than one etcd transaction may hold (128 operations).
        for (var i = 0; i < 150; i++)
            a.AddRelease(Release("old", a.NextReleaseVersion("old")), replaceConfig: true);
        for (var i = 0; i < 20; i++)
            a.AddEvent("old", "alice", "release", $"event {i}");
        a.SetFormation("old", [new FormationEntry("web", 2, 256)]);
        a.SetHealthCheck("old", "web", HealthCheckSpec.Default with { Path = "/up" });
        a.SetBuildpacks("old", ["https://example.com/bp.tgz"]);
        a.SetRouteOptions("old", AppRouteOptions.None with { TimeoutSeconds = 30 });
        a.SetRegistryCredentials("old", new Dictionary<string, RegistryCredential> { ["ghcr.io"] = new("u", "p") });
        var deploy = new DeployRecord("old", 150, DeployPhase.Rolling, "abc", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch) { Release = Release("old", 150) };
        a.SaveDeploy(deploy);
        a.SaveVolume(new VolumeRecord("old", "web", "/data", "data", null, false, DateTimeOffset.UnixEpoch));
        a.SaveAddon(new AddonRecord("pg-1", "old", "postgresql", "hobby", 256, "cell-a", "DATABASE_URL", "u", "s", "d", DateTimeOffset.UnixEpoch)
        {
            Attachments = [new AddonAttachment("other", "OLD_DATABASE_URL")],
        });
        a.SaveAddon(new AddonRecord("pg-2", "other", "postgresql", "hobby", 256, "cell-a", "DATABASE_URL", "u", "s", "d", DateTimeOffset.UnixEpoch)
        {
            Attachments = [new AddonAttachment("old", "OTHER_DATABASE_URL")],
        });
        domains.TryAdd("old", "www.example.com", out _);
        // Build outputs are gzip bytes, and two of them near the cap pass etcd's request limit in one copy batch.
        var output = new byte[900 * 1024];
        new Random(7).NextBytes(output);
        a.SaveBuildOutput("old", 149, output);
        a.SaveBuildOutput("old", 150, output);
        a.NextRunNumber("old");
        a.NextRunNumber("old");
        var releases = a.ListReleases("old", 200);
        var events = a.Events("old", 100);
        var (_, stampBefore) = a.AppsChangedSince(0);

        Assert.True(a.RenameApp("old", "new"));

        Assert.Equal(output, b.BuildOutput("new", 150));
        Assert.Equal(output, b.BuildOutput("new", 149));
        Assert.Null(b.BuildOutput("old", 150));
        Assert.Equal(3, b.NextRunNumber("new"));
        Assert.Equal(["new", "old"], b.AppsChangedSince(stampBefore).Apps.Order(StringComparer.Ordinal));

        Assert.Null(b.FindApp("old"));
        Assert.Equal(created with { Name = "new" }, b.FindApp("new"));
        // The images built for it carry the app's name too (paas/app-NAME:vN); they are re-tagged under the new one.
        Assert.Equal(releases.Select(r => ("new", r.Version, $"paas/app-new:v{r.Version}", r.Description)),
            b.ListReleases("new", 200).Select(r => (r.App, r.Version, r.Image, r.Description)));
        Assert.Equal(151, b.NextReleaseVersion("new"));
        Assert.Equal(new Dictionary<string, string> { ["V"] = "150" }, b.Config("new"));
        Assert.Equal(new FormationEntry("web", 2, 256), b.Formation("new")["web"]);
        Assert.Equal("/up", b.HealthCheck("new", "web")!.Path);
        Assert.Equal(["https://example.com/bp.tgz"], b.Buildpacks("new"));
        Assert.Equal(30, b.RouteOptions("new").TimeoutSeconds);
        Assert.Equal("u", b.RegistryCredentials("new")["ghcr.io"].Username);
        Assert.Equal(events.Select(e => e.Message), b.Events("new", 100).Select(e => e.Message));
        var moved = b.FindDeploy("new", 150)!;
        Assert.Equal((DeployPhase.Rolling, "new", "new", "paas/app-new:v150"), (moved.Phase, moved.App, moved.Release!.App, moved.Release.Image));
        Assert.Equal(["new"], b.Volumes("new").Select(v => v.App));
        Assert.Equal(["bob"], b.Collaborators("new"));
        Assert.True(b.IsCollaborator("new", "bob"));
        Assert.Equal(["new"], b.ListApps(visibleTo: "bob").Select(x => x.Name));
        Assert.Equal(("new", "other"), (b.Addons("new").Single().App, b.Addons("new").Single().Attachments.Single().App));
        Assert.Equal("new", b.Addons("other").Single().Attachments.Single().App);
        Assert.Equal("new", otherDomains.Find("www.example.com")!.App);
        Assert.Equal(["www.example.com"], otherDomains.ListForApp("new").Select(d => d.Hostname));

        // The follow-ups outside the store are pending until finished, for whichever controller gets there.
        Assert.Equal([("old", "new")], b.PendingRenames().Select(r => (r.From, r.To)));
        a.FinishRename("old");
        Assert.Empty(b.PendingRenames());

        // Nothing left under the old name, which is free for a new app that starts empty.
        Assert.Empty(b.ListReleases("old"));
        Assert.Empty(b.Events("old", 10));
        Assert.Empty(b.Deploys("old"));
        Assert.Empty(b.Volumes("old"));
        Assert.Empty(otherDomains.ListForApp("old"));
        Assert.True(b.TryCreateApp("old", "bob", out _));
        Assert.Empty(a.Config("old"));
        Assert.Empty(a.Formation("old"));
        Assert.Equal(1, a.NextReleaseVersion("old"));
    }

    [Fact]
    public void RenameApp_ToATakenName_OrOfAnUnknownApp_ChangesNothing()
    {
        var (store, _) = Open();
        store.TryCreateApp("one", "alice", out _);
        store.TryCreateApp("two", "alice", out _);
        store.AddRelease(Release("one", store.NextReleaseVersion("one")), replaceConfig: true);

        Assert.False(store.RenameApp("one", "two"));
        Assert.False(store.RenameApp("none", "three"));

        Assert.Equal(["one", "two"], store.ListApps().Select(x => x.Name));
        Assert.Single(store.ListReleases("one"));
        Assert.Empty(store.ListReleases("two"));
        Assert.Null(store.FindApp("three"));
        Assert.Empty(store.PendingRenames());
    }

    [Fact]
    public void Collaborators_SeeTheAppsTheyWorkOn()
    {
        var (store, _) = Open();
        store.TryCreateUser("alice", "user");
        store.TryCreateUser("bob", "user");
        store.TryCreateApp("mine", "alice", out _);
        store.TryCreateApp("ours", "alice", out _);
        store.TryCreateApp("theirs", "carol", out _);

        Assert.True(store.AddCollaborator("ours", "bob"));
        Assert.False(store.AddCollaborator("ours", "bob"));

        Assert.Equal(["mine", "ours"], store.ListApps(visibleTo: "alice").Select(a => a.Name));
        Assert.Equal(["ours"], store.ListApps(visibleTo: "bob").Select(a => a.Name));
        Assert.Equal(["mine", "ours", "theirs"], store.ListApps().Select(a => a.Name));
        Assert.True(store.IsCollaborator("ours", "bob"));
        Assert.Equal(["bob"], store.Collaborators("ours"));

        Assert.True(store.DeleteUser("bob"));

        Assert.Empty(store.Collaborators("ours"));
        Assert.False(store.IsCollaborator("ours", "bob"));
    }

    [Fact]
    public void Formation_HealthChecks_Buildpacks_AndSettings_RoundTrip()
    {
        var (store, _) = Open();
        store.TryCreateApp("misc", "alice", out _);

        store.SetFormation("misc", [new FormationEntry("web", 2, 256), new FormationEntry("worker", 1, null)]);
        store.SetFormation("misc", [new FormationEntry("web", 3, null)]); // memory kept
        store.SetHealthCheck("misc", "web", new HealthCheckSpec(HealthCheckSpec.Http, "/healthz", 2, 5, 30));
        store.SetBuildpacks("misc", ["nodejs", "https://example.com/bp.tgz"]);

        var formation = Open().State.Formation("misc");
        Assert.Equal(new FormationEntry("web", 3, 256), formation["web"]);
        Assert.Equal(new FormationEntry("worker", 1, null), formation["worker"]);
        Assert.Equal("/healthz", store.HealthCheck("misc", "web")!.Path);
        Assert.Null(store.HealthCheck("misc", "worker"));
        Assert.Equal(["nodejs", "https://example.com/bp.tgz"], store.Buildpacks("misc"));
        Assert.Equal("first", store.GetOrCreateSetting("platform_id", () => "first"));
        Assert.Equal("first", Open().State.GetOrCreateSetting("platform_id", () => "second"));
        store.Ping();
    }

    [Fact]
    public void AppsChangedSince_NamesEachAppWhoseDesiredStateWasWritten_ByAnotherInstanceToo_AndStampsOnlyGrow()
    {
        var (store, _) = Open();
        foreach (var app in new[] { "a", "b", "c", "d" })
            store.TryCreateApp(app, "alice", out _);
        var (_, start) = store.AppsChangedSince(0);
        Assert.Empty(store.AppsChangedSince(start).Apps);

        var other = Open().State;
        other.SetFormation("a", [new FormationEntry("web", 2, null)]);
        other.AddRelease(Release("b", 1));
        other.AddEvent("d", "alice", "note", "events are not desired state");
        var (changed, stamp) = store.AppsChangedSince(start);
        Assert.Equal(["a", "b"], changed.Order());
        Assert.True(stamp > start);
        Assert.Empty(store.AppsChangedSince(stamp).Apps);

        other.ReplaceConfig("c", new Dictionary<string, string> { ["K"] = "v" });
        other.SetRouteOptions("a", new AppRouteOptions(AppRouteOptions.LeastRequests, null, 30));
        other.SetHealthCheck("d", "web", new HealthCheckSpec(HealthCheckSpec.Http, "/", 1, 1, 1));
        var (again, later) = store.AppsChangedSince(stamp);
        Assert.Equal(["a", "c", "d"], again.Order());
        // A deletion is a change, and its stamp outlives the app: the next write anywhere is stamped above it.
        other.DeleteApp("b");
        var (deleted, afterDelete) = store.AppsChangedSince(later);
        Assert.Equal(["b"], deleted);
        other.SetFormation("a", [new FormationEntry("web", 3, null)]);
        var (last, lastStamp) = store.AppsChangedSince(afterDelete);
        Assert.Equal(["a"], last);
        Assert.True(lastStamp > afterDelete);
    }

    [Fact]
    public void BatchReads_AgreeWithEachAppsOwnReads()
    {
        var (store, domains) = Open();
        foreach (var app in new[] { "built", "bare", "configured" })
            store.TryCreateApp(app, "alice", out _);
        store.AddRelease(Release("built", 1));
        store.AddRelease(Release("built", 2));
        store.AddRelease(Release("configured", 1) with { Image = "" }); // a config change before any build: no current release
        store.SetFormation("built", [new FormationEntry("web", 2, 256), new FormationEntry("worker", 1, null)]);
        store.SetRouteOptions("built", new AppRouteOptions(AppRouteOptions.LeastRequests, "S", 30));
        domains.TryAdd("built", "www.built.example", out _);
        domains.TryAdd("bare", "bare.example", out _);

        var other = Open().State;
        var releases = other.CurrentReleases();
        Assert.Equal(["built"], releases.Keys);
        Assert.Equal(2, releases["built"].Version);
        Assert.Equal((store.CurrentRelease("built")!.Image, store.CurrentRelease("built")!.Description), (releases["built"].Image, releases["built"].Description));
        var formations = other.Formations();
        Assert.Equal(["built"], formations.Keys);
        Assert.Equal(store.Formation("built").OrderBy(f => f.Key), formations["built"].OrderBy(f => f.Key));
        var options = other.AllRouteOptions();
        Assert.Equal(["built"], options.Keys);
        Assert.Equal(store.RouteOptions("built"), options["built"]);
        Assert.Equal(["bare.example", "www.built.example"], domains.ListAll().Select(d => d.Hostname));
    }

    [Fact]
    public void RouteOptions_RoundTrip_AndGoWithTheApp()
    {
        var (store, _) = Open();
        store.TryCreateApp("routed", "alice", out _);
        Assert.Equal(AppRouteOptions.None, store.RouteOptions("routed"));

        var options = new AppRouteOptions(AppRouteOptions.LeastRequests, "SESSION", 30, Maintenance: true);
        store.SetRouteOptions("routed", options);
        Assert.Equal(options, Open().State.RouteOptions("routed"));
        store.SetRouteOptions("routed", options with { StickyCookie = null, Maintenance = false });
        Assert.Equal(options with { StickyCookie = null, Maintenance = false }, store.RouteOptions("routed"));

        Assert.True(store.DeleteApp("routed"));
        store.TryCreateApp("routed", "alice", out _);
        Assert.Equal(AppRouteOptions.None, store.RouteOptions("routed"));
    }

    [Fact]
    public void RegistryCredentials_RoundTrip_AndGoWithTheApp()
    {
        var (store, _) = Open();
        store.TryCreateApp("pulls", "alice", out _);
        Assert.Empty(store.RegistryCredentials("pulls"));

        store.SetRegistryCredentials("pulls", new Dictionary<string, RegistryCredential>
        {
            ["registry.example.com"] = new("ci", "s3cret"),
            ["127.0.0.1:5000"] = new("bob", "other"),
        });
        var read = Open().State.RegistryCredentials("pulls");
        Assert.Equal(new RegistryCredential("ci", "s3cret"), read["registry.example.com"]);
        Assert.Equal(new RegistryCredential("bob", "other"), read["127.0.0.1:5000"]);
        store.SetRegistryCredentials("pulls", new Dictionary<string, RegistryCredential> { ["127.0.0.1:5000"] = new("bob", "new") });
        Assert.Equal(["127.0.0.1:5000"], store.RegistryCredentials("pulls").Keys);

        Assert.True(store.DeleteApp("pulls"));
        store.TryCreateApp("pulls", "alice", out _);
        Assert.Empty(store.RegistryCredentials("pulls"));
    }
}

public sealed class SqliteStateStoreTests : StateStoreContract, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("paas-state-").FullName;

    protected override (IStateStore State, IDomainStore Domains) Open(int eventsKept = IStateStore.EventsKeptPerApp)
    {
        var path = Path.Combine(_dir, "paas.db");
        return (new PlatformDatabase(path, TimeProvider.System, eventsKept), new DomainStore(path, TimeProvider.System));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}

public sealed class EtcdStateStoreTests(EtcdClusterFixture etcd) : StateStoreContract, IClassFixture<EtcdClusterFixture>, IDisposable
{
    // Tests share the cluster; each works under its own prefix, as separate platforms would.
    private readonly string _prefix = $"/paas-test-{Guid.NewGuid():N}/";
    private readonly List<EtcdConnection> _connections = [];

    protected override (IStateStore State, IDomainStore Domains) Open(int eventsKept = IStateStore.EventsKeptPerApp)
    {
        var connection = new EtcdConnection(etcd.Cluster.ClientUrls, _prefix, TimeProvider.System);
        _connections.Add(connection);
        return (new EtcdStateStore(connection, TimeProvider.System, new Random(_connections.Count), eventsKept), new EtcdDomainStore(connection, TimeProvider.System));
    }

    public void Dispose()
    {
        foreach (var connection in _connections)
            connection.Dispose();
    }
}
