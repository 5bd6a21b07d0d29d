namespace Paas.Core.Instances;

/// <summary>
/// Labels on every container Paas starts, so actual state can be read back from the engine alone
/// (after a restart of the controller, or by a new cell agent).
/// </summary>
public static class ContainerLabels
{
    /// <summary>Identifies the platform installation (one data directory), so several never touch each other's containers.</summary>
    public const string Platform = "paas.platform";
    public const string App = "paas.app";
    public const string Release = "paas.release";
    public const string Process = "paas.process";
    public const string Instance = "paas.instance";
    public const string Index = "paas.index";
    /// <summary>The cell agent that owns the container; several agents may share one engine.</summary>
    public const string Cell = "paas.cell";
    /// <summary>"instance" for app instances, "staging" for throwaway build containers.</summary>
    public const string Role = "paas.role";
}
