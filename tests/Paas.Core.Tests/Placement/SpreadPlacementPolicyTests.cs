using Paas.Placement;

namespace Paas.Core.Tests.Placement;

public sealed class SpreadPlacementPolicyTests
{
    private const long Mb = 1024 * 1024;
    private readonly SpreadPlacementPolicy _policy = new();

    [Fact]
    public void Choose_PrefersCellWithFewestInstancesOfTheApp()
    {
        var cells = new[]
        {
            new CellCandidate("a", "z1", 4096 * Mb, 0, InstancesOfApp: 2),
            new CellCandidate("b", "z1", 4096 * Mb, 2048 * Mb, InstancesOfApp: 0),
        };

        Assert.Equal("b", _policy.Choose(cells, 512 * Mb, out _));
    }

    [Fact]
    public void Choose_ThenLeastReservedMemory_ThenName()
    {
        var cells = new[]
        {
            new CellCandidate("c", "z1", 4096 * Mb, 1024 * Mb, 0),
            new CellCandidate("b", "z1", 4096 * Mb, 512 * Mb, 0),
            new CellCandidate("a", "z1", 4096 * Mb, 512 * Mb, 0),
        };

        Assert.Equal("a", _policy.Choose(cells, 512 * Mb, out _));
    }

    [Fact]
    public void Choose_NeverOverCommitsMemory_AndSaysHowMuchIsShort()
    {
        var cells = new[] { new CellCandidate("a", "z1", 1024 * Mb, 800 * Mb, 0) };

        var chosen = _policy.Choose(cells, 512 * Mb, out var reason);

        Assert.Null(chosen);
        Assert.Equal("insufficient memory: 288 MB short on the emptiest cell", reason);
    }

    [Fact]
    public void Choose_SpreadsAcrossZonesBeforeCells()
    {
        // Zone z1 already holds one instance (on cell a); b is in z1 too, c is alone in z2.
        var cells = new[]
        {
            new CellCandidate("a", "z1", 4096 * Mb, 512 * Mb, 1, InstancesOfAppInZone: 1),
            new CellCandidate("b", "z1", 4096 * Mb, 0, 0, InstancesOfAppInZone: 1),
            new CellCandidate("c", "z2", 4096 * Mb, 2048 * Mb, 0, InstancesOfAppInZone: 0),
        };

        Assert.Equal("c", _policy.Choose(cells, 512 * Mb, out _));
    }
}
