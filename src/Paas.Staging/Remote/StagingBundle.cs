using System.Formats.Tar;
using System.Text.Json;
using Paas.Staging.Source;

namespace Paas.Staging.Remote;

/// <summary>
/// What the controller sends a staging cell, as one tar stream (the body of the cell's `POST /v1/staging`),
/// written and read only here: `request.json` (the <see cref="StagingJob"/>), then `source.tar` (the pushed
/// tree as <see cref="PushedSource.WriteTar"/> made it, owned by the app user), then the built-in buildpacks
/// under `buildpacks/` (the controller's copy, so every cell stages with the same ones), then each fetched
/// buildpack under `custom/INDEX/`. The cell extracts with <see cref="SafeTar"/>: the buildpacks' content is
/// the tenant's.
/// </summary>
public static class StagingBundle
{
    private const string RequestEntry = "request.json";
    private const string SourceEntry = "source.tar";
    private const string BuiltInPrefix = "buildpacks/";
    private const string CustomPrefix = "custom/";

    /// <param name="customDirectories">For each of <paramref name="job"/>'s buildpacks in order, the directory of its fetched copy (null for a built-in).</param>
    public static async Task WriteAsync(Stream destination, StagingJob job, string sourceTarPath, string builtInDirectory,
        IReadOnlyList<string?> customDirectories, CancellationToken cancellationToken)
    {
        await using var writer = new TarWriter(destination, TarEntryFormat.Pax, leaveOpen: true);
        var request = new PaxTarEntry(TarEntryType.RegularFile, RequestEntry) { DataStream = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(job)) };
        await writer.WriteEntryAsync(request, cancellationToken);
        await writer.WriteEntryAsync(sourceTarPath, SourceEntry, cancellationToken);
        await WriteTreeAsync(writer, builtInDirectory, BuiltInPrefix, cancellationToken);
        for (var i = 0; i < customDirectories.Count; i++)
        {
            if (customDirectories[i] is { } directory)
                await WriteTreeAsync(writer, directory, $"{CustomPrefix}{i}/", cancellationToken);
        }
    }

    /// <summary>The job and where its parts landed under <paramref name="scratch"/>: source.tar, buildpacks/, custom/INDEX/.</summary>
    public static async Task<(StagingJob Job, string SourceTar, string BuiltIns, string Custom)> ReadAsync(Stream source, string scratch, CancellationToken cancellationToken)
    {
        var sourceTar = Path.Combine(scratch, SourceEntry);
        var builtIns = Path.Combine(scratch, "buildpacks");
        var custom = Path.Combine(scratch, "custom");
        Directory.CreateDirectory(builtIns);
        Directory.CreateDirectory(custom);
        StagingJob? job = null;
        using var reader = new TarReader(source);
        while (await reader.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
        {
            var name = SafeTar.RelativeName(entry);
            if (name == RequestEntry && entry.DataStream is not null)
            {
                job = await JsonSerializer.DeserializeAsync<StagingJob>(entry.DataStream, cancellationToken: cancellationToken);
            }
            else if (name == SourceEntry)
            {
                // An empty entry has no data stream, and is still the (empty) source.
                await using var file = File.Create(sourceTar);
                if (entry.DataStream is not null)
                    await entry.DataStream.CopyToAsync(file, cancellationToken);
            }
            else if (name is not null && name.StartsWith(BuiltInPrefix, StringComparison.Ordinal) && name.Length > BuiltInPrefix.Length)
            {
                await SafeTar.ExtractEntryAsync(entry, name[BuiltInPrefix.Length..], builtIns, cancellationToken);
            }
            else if (name is not null && name.StartsWith(CustomPrefix, StringComparison.Ordinal) && name.Length > CustomPrefix.Length)
            {
                await SafeTar.ExtractEntryAsync(entry, name[CustomPrefix.Length..], custom, cancellationToken);
            }
        }
        if (job is null || !File.Exists(sourceTar))
            throw new InvalidDataException("The staging request has no request.json or no source.tar.");
        return (job, sourceTar, builtIns, custom);
    }

    /// <summary>A directory's files, directories and symlinks (as links, never followed), under <paramref name="prefix"/>.</summary>
    private static async Task WriteTreeAsync(TarWriter writer, string directory, string prefix, CancellationToken cancellationToken)
    {
        var pending = new Stack<string>();
        pending.Push(directory);
        while (pending.Count > 0)
        {
            var current = pending.Pop();
            foreach (var path in Directory.EnumerateFileSystemEntries(current).Order(StringComparer.Ordinal))
            {
                var relative = Path.GetRelativePath(directory, path).Replace('\\', '/');
                if (relative == ".git" || relative.StartsWith(".git/", StringComparison.Ordinal))
                    continue;
                var info = new FileInfo(path);
                var isDirectory = info.Attributes.HasFlag(FileAttributes.Directory) && info.LinkTarget is null;
                await writer.WriteEntryAsync(path, prefix + relative + (isDirectory ? "/" : ""), cancellationToken);
                if (isDirectory)
                    pending.Push(path);
            }
        }
    }
}
