namespace Paas.Controller.Instances;

/// <summary>
/// How long a crashed instance waits before its next start: at once after the first crash, then
/// doubling from one second, capped; an instance that stayed up long enough starts over from zero.
/// </summary>
public sealed record RestartBackoff(TimeSpan Cap, TimeSpan ResetAfterUptime)
{
    public static readonly RestartBackoff Default = new(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60));

    /// <summary>The delay before restart number <paramref name="crashesInARow"/> (1 = the first crash).</summary>
    public TimeSpan DelayAfter(int crashesInARow)
    {
        if (crashesInARow <= 1)
            return TimeSpan.Zero;
        var seconds = Math.Pow(2, Math.Min(crashesInARow - 2, 20));
        return TimeSpan.FromSeconds(Math.Min(seconds, Cap.TotalSeconds));
    }

    /// <summary>Crashes in a row after this one: counting resets when the instance had been up a while.</summary>
    public int NextCount(int previousCount, TimeSpan uptime) => uptime >= ResetAfterUptime ? 1 : previousCount + 1;
}
