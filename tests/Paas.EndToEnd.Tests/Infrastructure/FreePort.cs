namespace Paas.EndToEnd.Tests.Infrastructure;

/// <summary>A port for a process a test starts; see <see cref="Paas.Testing.TestPorts"/> for why not port 0.</summary>
public static class FreePort
{
    public static int Next() => Paas.Testing.TestPorts.Next();
}
