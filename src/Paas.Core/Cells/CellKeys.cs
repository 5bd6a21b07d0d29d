namespace Paas.Core.Cells;

/// <summary>Redis names for cell registrations and cell events, under the platform's prefix.</summary>
public sealed record CellKeys(string Prefix)
{
    /// <summary>Hash: cell name → <see cref="CellRegistration"/> JSON, rewritten at every heartbeat.</summary>
    public string Cells => Prefix + "cells";

    /// <summary>Channel: a <see cref="CellEvent"/> JSON whenever an instance exits without being asked to.</summary>
    public string Events => Prefix + "cells:events";

    /// <summary>String: the stack image in the registry by digest (`REGISTRY/paas/stack@sha256:…`, the controller's address), which cells pre-pull.</summary>
    public string StackImage => Prefix + "stack:image";
}
