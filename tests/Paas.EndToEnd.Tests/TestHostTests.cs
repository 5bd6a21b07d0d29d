using System.Diagnostics;
using Docker.DotNet;
using Docker.DotNet.Models;
using Paas.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Paas.EndToEnd.Tests;

/// <summary>
/// The test hosts multi-host tests stand on: a registry on the main host, two hosts each with its own network
/// namespace and dockerd, one image pushed from the main engine and pulled by digest on both.
/// </summary>
public sealed class TestHostsFixture : IAsyncLifetime
{
    public const string Repository = "paas-test/busybox";

    public TestNetwork Network { get; private set; } = null!;
    public ImageRegistry Registry { get; private set; } = null!;
    public RedisServer Redis { get; private set; } = null!;
    public TestHost First { get; private set; } = null!;
    public TestHost Second { get; private set; } = null!;
    public string Page { get; } = "served by a test host " + Guid.NewGuid().ToString("N")[..8];
    public string Digest { get; private set; } = "";
    public TimeSpan PushedIn { get; private set; }

    public async Task InitializeAsync()
    {
        try
        {
            await StartAsync();
        }
        catch
        {
            // Nothing half made outlives a failed start, whether or not the runner disposes the fixture after it.
            await DisposeAsync();
            throw;
        }
    }

    private async Task StartAsync()
    {
        Network = await TestNetwork.CreateAsync();
        Registry = await ImageRegistry.StartAsync(Network.Gateway);
        Redis = await RedisServer.StartAsync(Network.Gateway);
        First = await Network.AddHostAsync(Registry.Address);
        Second = await Network.AddHostAsync(Registry.Address);

        using var engine = new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient();
        var tag = Network.Id;
        var image = await BusyboxImage.ImportAsync(engine, Repository, tag, Page);
        try
        {
            var clock = Stopwatch.StartNew();
            Digest = await Registry.PushAsync(engine, image, Repository, tag);
            PushedIn = clock.Elapsed;
        }
        finally
        {
            await engine.Images.DeleteImageAsync(image, new ImageDeleteParameters { Force = true });
        }
    }

    public async Task DisposeAsync()
    {
        if (Network is not null)
            await Network.DisposeAsync();
        if (Registry is not null)
            await Registry.DisposeAsync();
        if (Redis is not null)
            await Redis.DisposeAsync();
        (Network, Registry, Redis) = (null!, null!, null!);
    }
}

[CollectionDefinition(Name)]
public sealed class TestHostCollection : ICollectionFixture<TestHostsFixture>
{
    public const string Name = "test-hosts";
}

[Collection(TestHostCollection.Name)]
public sealed class TestHostTests(TestHostsFixture hosts, ITestOutputHelper output)
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler
    {
        UseProxy = false,
        // A new connection per request: a pooled one would outlive a link taken down.
        PooledConnectionLifetime = TimeSpan.Zero,
        ConnectTimeout = TimeSpan.FromSeconds(2),
    })
    {
        Timeout = TimeSpan.FromSeconds(3),
    };

    [Fact]
    public async Task EachHost_PullsTheImageByDigestFromTheRegistry_AndServesItOnItsOwnAddress()
    {
        output.WriteLine($"network {hosts.Network.BridgeName}, gateway {hosts.Network.Gateway}, registry {hosts.Registry.Address}");
        output.WriteLine($"push from the main engine: {hosts.PushedIn.TotalSeconds:F2} s ({hosts.Digest})");
        foreach (var host in new[] { hosts.First, hosts.Second })
        {
            var image = hosts.Registry.Reference(TestHostsFixture.Repository, hosts.Digest);
            var clock = Stopwatch.StartNew();
            await host.PullAsync(image, hosts.Registry.Credentials);
            var pulled = clock.Elapsed;
            var container = await host.DockerClient.Containers.CreateContainerAsync(new CreateContainerParameters
            {
                Image = image,
                ExposedPorts = new Dictionary<string, EmptyStruct> { [$"{BusyboxImage.Port}/tcp"] = default },
                HostConfig = new HostConfig
                {
                    PortBindings = new Dictionary<string, IList<PortBinding>>
                    {
                        [$"{BusyboxImage.Port}/tcp"] = [new PortBinding { HostIP = host.Address, HostPort = "18080" }],
                    },
                },
            });
            await host.DockerClient.Containers.StartContainerAsync(container.ID, new ContainerStartParameters());

            var body = await GetWhenUpAsync($"http://{host.Address}:18080/", TimeSpan.FromSeconds(15));

            Assert.Equal(hosts.Page, body);
            output.WriteLine($"{host.Name} at {host.Address}: namespace and dockerd up in {host.StartedIn.TotalSeconds:F2} s, pull {pulled.TotalSeconds:F2} s, "
                + $"serving {clock.Elapsed.TotalSeconds:F2} s after the pull began");
        }
    }

    [Fact]
    public async Task LinkDown_TakesTheHostOffTheNetwork_AndLinkUpPutsItBack()
    {
        var first = StartHttpd(hosts.First, "first");
        var second = StartHttpd(hosts.Second, "second");
        Assert.Equal("first", await GetWhenUpAsync(first, TimeSpan.FromSeconds(10)));
        Assert.Equal("second", await GetWhenUpAsync(second, TimeSpan.FromSeconds(10)));

        await hosts.First.SetLinkAsync(up: false);
        try
        {
            await Assert.ThrowsAnyAsync<Exception>(() => Http.GetStringAsync(first));
            Assert.Equal("second", await Http.GetStringAsync(second));
        }
        finally
        {
            await hosts.First.SetLinkAsync(up: true);
        }

        var clock = Stopwatch.StartNew();
        Assert.Equal("first", await GetWhenUpAsync(first, TimeSpan.FromSeconds(10)));
        output.WriteLine($"{hosts.First.Name} answered {clock.Elapsed.TotalSeconds:F2} s after its link came back up");
    }

    [Fact]
    public async Task ProcessInAHost_ReachesTheMainHostAtTheGateway_AndNotAtLoopback()
    {
        var port = hosts.Registry.Address.Split(':')[1];

        string[] curl = ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "3"];

        var viaGateway = await hosts.First.RunAsync("curl", [.. curl, $"http://{hosts.Network.Gateway}:{port}/v2/"]);
        var viaLoopback = await hosts.First.RunAsync("curl", [.. curl, $"http://127.0.0.1:{port}/v2/"]);

        // The registry asks for credentials: it was reached. At 127.0.0.1 is the namespace's own loopback, where nothing listens.
        Assert.True(viaGateway.Stdout.Trim() == "401", viaGateway.ToString());
        Assert.True(viaLoopback.ExitCode != 0 && viaLoopback.Stderr.Contains("Couldn't connect"), viaLoopback.ToString());
    }

    [Fact]
    public async Task ProcessInAHost_ReachesTheTestsRedisAtTheGateway()
    {
        var (host, port) = (hosts.Redis.Address.Split(':')[0], hosts.Redis.Address.Split(':')[1]);

        // The tests' Redis wants its password, as the platform's does (a test password, on redis-cli's command line).
        var ping = await hosts.Second.RunAsync("redis-cli", ["--no-auth-warning", "-a", hosts.Redis.Password, "-h", host, "-p", port, "ping"]);

        Assert.True(ping.Stdout.Trim() == "PONG", ping.ToString());
    }

    [Fact]
    public async Task CellAgent_RunsInAHost_OnTheHostsEngineAndTheGatewaysRedis()
    {
        var port = FreePort.Next();
        var prefix = "th-" + Guid.NewGuid().ToString("N")[..8] + ":";
        var dataDirectory = Path.Combine(hosts.First.Directory, "paas-data");
        var redisPort = hosts.Redis.LoopbackAddress.Split(':')[1];
        // What the controller would publish first: the cell waits for it before it serves.
        await ProcessRunner.MustRunAsync("redis-cli", "--no-auth-warning", "-a", hosts.Redis.Password, "-p", redisPort, "set", prefix + "platform-id", "th" + hosts.Network.Id);
        var cell = hosts.First.StartDll(RepoPaths.Dll("src/Paas.Cell", "Paas.Cell"), new Dictionary<string, string>
        {
            ["PAAS_CELL_NAME"] = "host-cell-1",
            ["PAAS_CELL_BIND"] = hosts.First.Address,
            ["PAAS_CELL_PORT"] = port.ToString(),
            ["PAAS_CELL_HEARTBEAT_MS"] = "500",
            ["DOCKER_HOST"] = hosts.First.DockerEndpoint,
            ["PAAS_REDIS"] = hosts.Redis.Configuration,
            ["PAAS_REDIS_PREFIX"] = prefix,
            ["PAAS_DATA_DIR"] = dataDirectory,
        });
        try
        {
            await cell.WaitReadyAsync($"http://{hosts.First.Address}:{port}/healthz", TimeSpan.FromSeconds(30));

            var keys = await ProcessRunner.MustRunAsync("redis-cli", "--no-auth-warning", "-a", hosts.Redis.Password, "-p", redisPort, "--scan", "--pattern", prefix + "*");
            Assert.True(keys.Stdout.Contains("host-cell-1", StringComparison.Ordinal), keys + "\n" + cell.Output);
        }
        finally
        {
            cell.Stop();
        }
    }

    /// <summary>busybox httpd started in a host's network (the way a cell agent would be), serving one page; returns its URL.</summary>
    private static string StartHttpd(TestHost host, string page)
    {
        var www = Path.Combine(host.Directory, "www-" + page);
        Directory.CreateDirectory(www);
        File.WriteAllText(Path.Combine(www, "index.html"), page);
        var port = 19000 + Random.Shared.Next(1000);
        host.StartProcess("busybox", ["httpd", "-f", "-p", $"{host.Address}:{port}", "-h", www]);
        return $"http://{host.Address}:{port}/";
    }

    private static async Task<string> GetWhenUpAsync(string url, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await Http.GetStringAsync(url);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && clock.Elapsed < timeout)
            {
                await Task.Delay(100);
            }
        }
    }
}
