namespace Paas.EndToEnd.Tests.Infrastructure;

/// <summary>
/// Several "hosts" on this one machine, for multi-host end-to-end tests: each <see cref="TestHost"/> is a network
/// namespace with its own dockerd, joined to the main host by a veth pair on a bridge this network owns.
/// <code>
///   main host (the test, controller, router, registry)
///     bridge paas-th-ID   10.213.R.1/24   ← the gateway: bind what hosts must reach here (Redis, controller, registry)
///       ├─ veth paas-th-ID-1 ⇄ eth0 10.213.R.2/24 in netns paas-th-ID-1, its dockerd on /tmp/paas-th/ID/1/docker.sock
///       └─ veth paas-th-ID-2 ⇄ eth0 10.213.R.3/24 in netns paas-th-ID-2, ...
/// </code>
/// Each run has its own bridge and /24 (R picked under a machine-wide lock from subnets no interface uses), since
/// several work trees may run these tests on one machine at once. Hosts route everything through the gateway, and
/// the main host reaches them directly, so no NAT rule is added to the main host. Frames from one host to another
/// cross the bridge, and with br_netfilter loaded (Docker loads it) they meet the main host's FORWARD chain, whose
/// policy Docker sets to DROP; one rule, <c>FORWARD -i BRIDGE -o BRIDGE -j ACCEPT</c>, lets them through, as hosts on
/// one LAN reach each other (a router on one host reaches instances on all). That rule, and any a test adds with
/// <see cref="AddRuleAsync"/>, names this bridge, which is how teardown (and a later run's stale clean-up) finds
/// and removes them; nothing else on the machine's firewall is touched.
/// Inside a namespace its dockerd has its own docker0 and iptables rules, which clash with nothing outside it.
/// <para>
/// Everything a run makes carries its id: interfaces and namespaces named paas-th-ID*, files under /tmp/paas-th/ID
/// (with the owning test process's pid and start time), cgroups /paas-th-ID-N. Disposal removes them; a run that
/// crashed leaves them with a dead owner, and the next run removes them before it starts (<see cref="RemoveStaleAsync"/>).
/// </para>
/// </summary>
public sealed class TestNetwork : IAsyncDisposable
{
    public const string Prefix = "paas-th-";
    public const string StateRoot = "/tmp/paas-th";
    private const int IdLength = 4;

    private readonly List<TestHost> _hosts = new();
    private readonly int _subnet;

    private TestNetwork(string id, int subnet)
    {
        Id = id;
        _subnet = subnet;
    }

    public string Id { get; }

    public string BridgeName => Prefix + Id;

    /// <summary>The main host's address on the bridge: what hosts use as their default route, and where services they need listen.</summary>
    public string Gateway => $"10.213.{_subnet}.1";

    public string Directory => Path.Combine(StateRoot, Id);

    public IReadOnlyList<TestHost> Hosts => _hosts;

    public static async Task<TestNetwork> CreateAsync()
    {
        Requirements.EnsureTestHostTools();
        await using var machineLock = await LockAsync();
        await RemoveStaleAsync();
        var id = await UnusedIdAsync();
        var network = new TestNetwork(id, await UnusedSubnetAsync());
        System.IO.Directory.CreateDirectory(network.Directory);
        await File.WriteAllTextAsync(Path.Combine(network.Directory, "owner"), Linux.Identity(Environment.ProcessId));
        await ProcessRunner.MustRunAsync("ip", "link", "add", network.BridgeName, "type", "bridge");
        await ProcessRunner.MustRunAsync("ip", "addr", "add", network.Gateway + "/24", "dev", network.BridgeName);
        await ProcessRunner.MustRunAsync("ip", "link", "set", network.BridgeName, "up");
        await network.AddRuleAsync("FORWARD", "-o", network.BridgeName, "-j", "ACCEPT");
        return network;
    }

    /// <summary>
    /// Inserts a rule at the top of <paramref name="chain"/> (filter table) for traffic arriving on this network's
    /// bridge: <c>-i BRIDGE</c> followed by <paramref name="rule"/>. It lasts until <see cref="RemoveRuleAsync"/>
    /// with the same arguments, or the network's teardown.
    /// </summary>
    public Task AddRuleAsync(string chain, params string[] rule) =>
        ProcessRunner.MustRunAsync("iptables", ["-w", "-I", chain, "1", "-i", BridgeName, .. rule]);

    public Task RemoveRuleAsync(string chain, params string[] rule) =>
        ProcessRunner.RunAsync("iptables", ["-w", "-D", chain, "-i", BridgeName, .. rule], null, new Dictionary<string, string>(), TimeSpan.FromSeconds(30));

    /// <summary>
    /// Starts one more host: namespace, veth on the bridge, address 10.213.R.(N+1), and its dockerd, which trusts
    /// the given plain-HTTP registries (ADDR:PORT, such as <see cref="ImageRegistry.Address"/>).
    /// </summary>
    public async Task<TestHost> AddHostAsync(params string[] insecureRegistries)
    {
        var host = NewHost();
        await host.StartAsync(insecureRegistries);
        return host;
    }

    /// <summary>
    /// One more host without a dockerd: its namespace and address only, for a server the platform must reach across
    /// the network as it would a public one (a package index or registry for staging, through the engine's NAT).
    /// </summary>
    public async Task<TestHost> AddBareHostAsync()
    {
        var host = NewHost();
        await host.StartBareAsync();
        return host;
    }

    private TestHost NewHost()
    {
        var number = _hosts.Count + 1;
        if (number > 250)
            throw new InvalidOperationException("A test network holds at most 250 hosts.");
        var host = new TestHost(this, $"{Prefix}{Id}-{number}", $"10.213.{_subnet}.{number + 1}", Path.Combine(Directory, number.ToString()));
        _hosts.Add(host);
        return host;
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_hosts.Select(h => h.DisposeAsync().AsTask()));
        await TearDownAsync(Id);
    }

    /// <summary>Removes what runs whose test process is gone left behind: their dockerds, processes, mounts, cgroups, namespaces, links and files.</summary>
    public static async Task RemoveStaleAsync()
    {
        var live = LiveIds();
        var seen = new HashSet<string>();
        if (System.IO.Directory.Exists(StateRoot))
            seen.UnionWith(System.IO.Directory.EnumerateDirectories(StateRoot).Select(Path.GetFileName)!);
        seen.UnionWith((await NamespacesAsync()).Select(IdOf));
        seen.UnionWith((await LinksAsync()).Select(IdOf));
        seen.UnionWith(TestHost.CgroupDirectories(Prefix).Select(d => IdOf(Path.GetFileName(d))));
        seen.UnionWith((await RulesAsync()).Select(r => r.Id));
        foreach (var id in seen.Where(id => id.Length == IdLength && !live.Contains(id)))
            await TearDownAsync(id);
    }

    /// <summary>Removes everything of one run, whether its hosts were disposed or not.</summary>
    private static async Task TearDownAsync(string id)
    {
        var hosts = (await NamespacesAsync()).Where(n => n.StartsWith(Prefix + id + "-", StringComparison.Ordinal))
            .Union(TestHost.CgroupDirectories(Prefix + id + "-").Select(Path.GetFileName)!)
            .Union(System.IO.Directory.Exists(Path.Combine(StateRoot, id))
                ? System.IO.Directory.EnumerateDirectories(Path.Combine(StateRoot, id)).Select(d => $"{Prefix}{id}-{Path.GetFileName(d)}")
                : []);
        foreach (var name in hosts.Distinct())
            await TestHost.TearDownAsync(name, Path.Combine(StateRoot, id, name[(Prefix.Length + IdLength + 1)..]));
        foreach (var link in (await LinksAsync()).Where(l => IdOf(l) == id))
            await ProcessRunner.RunAsync("ip", ["link", "del", link], null, new Dictionary<string, string>(), TimeSpan.FromSeconds(30));
        foreach (var (_, rule) in (await RulesAsync()).Where(r => r.Id == id))
            await ProcessRunner.RunAsync("iptables", ["-w", "-D", .. rule[1..]], null, new Dictionary<string, string>(), TimeSpan.FromSeconds(30));
        try
        {
            System.IO.Directory.Delete(Path.Combine(StateRoot, id), recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private static HashSet<string> LiveIds()
    {
        var live = new HashSet<string>();
        if (!System.IO.Directory.Exists(StateRoot))
            return live;
        foreach (var dir in System.IO.Directory.EnumerateDirectories(StateRoot))
        {
            var owner = Path.Combine(dir, "owner");
            if (File.Exists(owner) && Linux.IsRunning(File.ReadAllText(owner)))
                live.Add(Path.GetFileName(dir));
        }
        return live;
    }

    private static string IdOf(string name) =>
        name.StartsWith(Prefix, StringComparison.Ordinal) && name.Length >= Prefix.Length + IdLength ? name.Substring(Prefix.Length, IdLength) : "";

    private static async Task<string> UnusedIdAsync()
    {
        var taken = (await NamespacesAsync()).Concat(await LinksAsync()).Select(IdOf).ToHashSet();
        while (true)
        {
            var id = Guid.NewGuid().ToString("N")[..IdLength];
            if (!taken.Contains(id) && !System.IO.Directory.Exists(Path.Combine(StateRoot, id)))
                return id;
        }
    }

    /// <summary>The lowest R for which no interface has an address in 10.213.R.0/24.</summary>
    private static async Task<int> UnusedSubnetAsync()
    {
        var addresses = (await ProcessRunner.MustRunAsync("ip", "-o", "-4", "addr", "show")).Stdout;
        for (var subnet = 1; subnet < 255; subnet++)
        {
            if (!addresses.Contains($" 10.213.{subnet}.", StringComparison.Ordinal))
                return subnet;
        }
        throw new InvalidOperationException("Every 10.213.R.0/24 subnet is in use on this machine.");
    }

    /// <summary>Rules of the main host's filter table that name a test network's interface (-i or -o paas-th-ID…), as `iptables -S` prints them.</summary>
    private static async Task<IReadOnlyList<(string Id, string[] Rule)>> RulesAsync()
    {
        var list = await ProcessRunner.MustRunAsync("iptables", "-w", "-S");
        // "-A FORWARD -i paas-th-ab12 -o paas-th-ab12 -j ACCEPT"
        return list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(words => words.Length > 2 && words[0] == "-A")
            .Select(words => (Id: words.Zip(words.Skip(1)).Where(p => p.First is "-i" or "-o").Select(p => IdOf(p.Second)).FirstOrDefault(id => id.Length == IdLength) ?? "", Rule: words))
            .Where(r => r.Id.Length > 0)
            .ToList();
    }

    private static async Task<IReadOnlyList<string>> NamespacesAsync()
    {
        var list = await ProcessRunner.MustRunAsync("ip", "netns", "list");
        return list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ')[0])
            .Where(name => name.StartsWith(Prefix, StringComparison.Ordinal))
            .ToList();
    }

    private static async Task<IReadOnlyList<string>> LinksAsync()
    {
        var list = await ProcessRunner.MustRunAsync("ip", "-o", "link", "show");
        // "141: paas-th-ab12-1@if2: <BROADCAST,...>"
        return list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ')[1].TrimEnd(':').Split('@')[0])
            .Where(name => name.StartsWith(Prefix, StringComparison.Ordinal))
            .ToList();
    }

    /// <summary>A machine-wide lock (flock on /tmp/paas-th/.lock), so two runs neither pick one subnet nor clean up each other.</summary>
    private static async Task<FileStream> LockAsync()
    {
        System.IO.Directory.CreateDirectory(StateRoot);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        while (true)
        {
            try
            {
                return new FileStream(Path.Combine(StateRoot, ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }
}
