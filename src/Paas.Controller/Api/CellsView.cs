using Paas.Controller.Cells;

namespace Paas.Controller.Api;

/// <summary>Cells as operators see them (`paas cells`).</summary>
public sealed class CellsView(CellDirectory cells)
{
    public async Task<long> LargestCellMemoryMbAsync() =>
        (await cells.LiveAsync()).Select(c => c.MemoryBytes / (1024 * 1024)).DefaultIfEmpty(0).Max();

    public async Task<IResult> ListAsync()
    {
        var registrations = await cells.RegistrationsAsync();
        return Results.Json(registrations.Select(r => new
        {
            name = r.Name,
            zone = r.Zone,
            url = r.Url,
            state = cells.IsLive(r) ? "live" : "lost",
            memory_bytes = r.MemoryBytes,
            reserved_bytes = r.Instances.Where(i => i.Running).Sum(i => i.MemoryLimitBytes),
            max_instances = r.MaxInstances,
            instances = r.Instances.Count(i => i.Running),
            last_heartbeat = r.HeartbeatAt,
        }));
    }
}
