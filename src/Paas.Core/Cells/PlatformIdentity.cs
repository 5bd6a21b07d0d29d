namespace Paas.Core.Cells;

/// <summary>Redis key holding the platform id, which labels every container so installations sharing an engine never touch each other's.</summary>
public static class PlatformIdentity
{
    public static string Key(string prefix) => prefix + "platform-id";
}
