namespace Paas.Controller.Leadership;

/// <summary>One controller process: an id made at start (a restart is a new controller) and the address others reach it on (PAAS_CONTROLLER_ADDRESS).</summary>
public sealed record ControllerIdentity(string Id, string Address)
{
    public static ControllerIdentity New(string address) => new(Guid.NewGuid().ToString("N")[..12], address.TrimEnd('/'));
}
