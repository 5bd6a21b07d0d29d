namespace Paas.Controller.Tests.Simulation;

/// <summary>The simulation's assertions (xunit), apart so the convergence benchmark can compile the harness without them.</summary>
public sealed partial class Simulation
{
    /// <summary>
    /// What a user would check: exactly one running web instance per slot 1..<paramref name="quantity"/>, all of
    /// <paramref name="release"/>, and the router sends traffic to exactly those.
    /// </summary>
    public void AssertServing(string app, int quantity, int release)
    {
        var running = Running(app);
        var summary = string.Join(", ", running.OrderBy(i => i.Index).Select(i => $"web.{i.Index} v{i.Release} on {i.Cell}"));
        Assert.True(running.Count == quantity, $"{app}: {running.Count} running, {quantity} wanted: {summary}");
        Assert.Equal(Enumerable.Range(1, quantity), running.Select(i => i.Index).Order());
        Assert.All(running, i => Assert.Equal(release, i.Release));
        Assert.Equal(running.Select(i => i.InstanceId).Order(), Router.RoutesOf(app).Select(r => r.Instance).Order());
    }
}
