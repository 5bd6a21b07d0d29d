using Paas.Controller.Tests.State;

namespace Paas.EndToEnd.Tests.Infrastructure;

/// <summary>
/// Two controllers on one three-member etcd cluster, with the router and one cell: the first controller
/// started leads, the second (<see cref="StartStandbyAsync"/>) stands by, with its own data directory (its own
/// copies of the repositories) and the same cell secret.
/// </summary>
public sealed class StandbyPlatform : PlatformFixture
{
    private EtcdCluster? _etcd;
    private PlatformProcess? _standby;

    public int StandbyPort { get; } = FreePort.Next();
    public string StandbyUrl => $"http://127.0.0.1:{StandbyPort}";
    public string StandbyDataDirectory => Path.Combine(DataDirectory, "standby");

    protected override Task StartInfrastructureAsync()
    {
        _etcd = EtcdCluster.Start();
        return Task.CompletedTask;
    }

    protected override IReadOnlyDictionary<string, string> ControllerSettings => new Dictionary<string, string>
    {
        ["PAAS_ETCD_ENDPOINTS"] = string.Join(',', _etcd!.ClientUrls),
        ["PAAS_CONTROLLER_ADDRESS"] = ApiUrl,
    };

    protected override async Task StartCellsAsync()
    {
        await StartCellAsync(CellLayout[0].Name);
        await WaitForCellsAsync(1);
    }

    public async Task StartStandbyAsync()
    {
        var environment = new Dictionary<string, string>(ControllerEnvironment)
        {
            ["PAAS_DATA_DIR"] = StandbyDataDirectory,
            ["PAAS_API_PORT"] = StandbyPort.ToString(),
            ["PAAS_API_URL"] = StandbyUrl,
            ["PAAS_API_TLS_PORT"] = "0",
            ["PAAS_CONTROLLER_ADDRESS"] = StandbyUrl,
            ["PAAS_CELL_SECRET"] = (await File.ReadAllTextAsync(Path.Combine(DataDirectory, "cell-secret"))).Trim(),
        };
        _standby = new PlatformProcess(RepoPaths.Dll("src/Paas.Controller", "Paas.Controller"), environment);
        await _standby.WaitReadyAsync($"{StandbyUrl}/healthz", TimeSpan.FromSeconds(30));
    }

    public string StandbyOutput => _standby?.Output ?? "";

    /// <summary>The role line of a controller's /healthz ("role: leader; leader: URL"), or the error when it does not answer.</summary>
    public async Task<string> RoleAsync(string apiUrl)
    {
        try
        {
            var lines = (await Http.GetStringAsync($"{apiUrl}/healthz")).Split('\n');
            return lines.Length > 1 ? lines[1] : lines[0];
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return "no answer: " + e.Message;
        }
    }

    /// <summary>The CLI against another controller (the admin token is in the store both share).</summary>
    public Task<ProcessResult> PaasViaAsync(string apiUrl, string? workingDirectory, params string[] args)
    {
        var environment = ClientEnvironment();
        environment["PAAS_API_URL"] = apiUrl;
        return ProcessRunner.RunAsync("dotnet", [RepoPaths.Dll("src/Paas.Cli", "paas"), .. args], workingDirectory, environment, TimeSpan.FromMinutes(2));
    }

    public override async Task DisposeAsync()
    {
        _standby?.Dispose();
        await base.DisposeAsync();
        _etcd?.Dispose();
    }
}
