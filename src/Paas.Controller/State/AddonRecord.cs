using System.Text.Json.Serialization;

namespace Paas.Controller.State;

/// <summary>
/// An add-on the platform runs for an app (desired state): its server's kind, plan and memory, the cell that
/// holds its volume, and its credentials (the config var's value is built from them; they are never logged).
/// </summary>
public sealed record AddonRecord(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("app")] string App,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("plan")] string Plan,
    [property: JsonPropertyName("memory_mb")] int MemoryMb,
    [property: JsonPropertyName("cell")] string Cell,
    [property: JsonPropertyName("config_var")] string ConfigVar,
    [property: JsonPropertyName("user")] string User,
    [property: JsonPropertyName("password")] string Password,
    [property: JsonPropertyName("database")] string Database,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt)
{
    /// <summary>Other apps that share this add-on (`paas addons:attach`), each under its own config var.</summary>
    [JsonPropertyName("attachments")]
    public IReadOnlyList<AddonAttachment> Attachments { get; init; } = [];

    /// <summary>The daily backup of a PostgreSQL add-on (`paas pg:backups:schedule`); null: none.</summary>
    [JsonPropertyName("backup_schedule")]
    public Addons.BackupSchedule? BackupSchedule { get; init; }

    // A record compares lists by reference; two records are equal when they store the same (what a read gives back).
    public bool Equals(AddonRecord? other) =>
        other is not null && System.Text.Json.JsonSerializer.Serialize(this) == System.Text.Json.JsonSerializer.Serialize(other);

    public override int GetHashCode() => Id.GetHashCode(StringComparison.Ordinal);
}

/// <summary>Another app given an add-on's URL in <paramref name="ConfigVar"/>.</summary>
public sealed record AddonAttachment(
    [property: JsonPropertyName("app")] string App,
    [property: JsonPropertyName("config_var")] string ConfigVar);
