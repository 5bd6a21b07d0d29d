using Paas.Controller.Cells;

namespace Paas.Controller.Api;

/// <summary>Cells as operators see them (`paas cells`).</summary>
public sealed class CellsView(CellDirectory cells)
{
    public async Task<long> LargestCellMemoryMbAsync() =>
        (await cells.LiveAsync()).Select(c => c.MemoryBytes / (1024 * 1024)).DefaultIfEmpty(0).Max();

    public async Task<IResult> ListAsync()
    {
        var status = await cells.StatusAsync();
        return Results.Json(status.Select(s => new
        {
            name = s.Registration.Name,
            zone = s.Registration.Zone,
            address = s.Registration.Address,
            url = s.Registration.Url,
            state = s.Live ? "live" : "lost",
            memory_bytes = s.Registration.MemoryBytes,
            reserved_bytes = s.Registration.Instances.Where(i => i.Running).Sum(i => i.MemoryLimitBytes),
            max_instances = s.Registration.MaxInstances,
            instances = s.Registration.Instances.Count(i => i.Running),
            images = s.Registration.Images,
            pull_failures = s.Registration.PullFailures,
            // The stack image's pre-pull: pulled, pulling, waiting, failed: REASON; null when the cell does not pre-pull.
            stack = s.Registration.Stack,
            last_heartbeat = s.Registration.HeartbeatAt,
        }));
    }
}
