using System.Collections.Concurrent;
using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Paas.Staging.Source;

namespace Paas.Staging.Buildpacks;

/// <summary>
/// Fetches custom buildpacks on the controller host (staging containers fetch nothing) and caches them by
/// URL and ref under one directory: `KEY/` holds the buildpack, `KEY.source` says where it came from.
/// A copy pinned to a commit is kept for good; others are fetched again when older than
/// <see cref="Refresh"/>, falling back to the cached copy if that fetch fails.
/// </summary>
public sealed class BuildpackFetcher(string cacheRoot, HttpClient http)
{
    public static readonly TimeSpan Refresh = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan GitTimeout = TimeSpan.FromMinutes(3);
    private const long MaxTarballBytes = 200L * 1024 * 1024;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new();

    public string CacheRoot { get; } = cacheRoot;

    /// <summary>The local directory of the buildpack; throws <see cref="StagingException"/> naming it when it cannot be fetched.</summary>
    public async Task<string> FetchAsync(BuildpackReference buildpack, Func<string, Task> output, CancellationToken cancellationToken)
    {
        if (buildpack.Kind == BuildpackKind.BuiltIn)
            throw new ArgumentException("Built-in buildpacks are not fetched.", nameof(buildpack));
        Directory.CreateDirectory(CacheRoot);
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(buildpack.Text)))[..24];
        var target = Path.Combine(CacheRoot, key);
        var gate = _locks.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            var pinned = buildpack.Ref is { Length: 40 } r && r.All(Uri.IsHexDigit);
            if (Directory.Exists(target) && (pinned || DateTime.UtcNow - Directory.GetLastWriteTimeUtc(target) < Refresh))
            {
                await output($"-----> Using buildpack {buildpack} (cached)");
                return target;
            }
            await output($"-----> Fetching buildpack {buildpack}");
            var scratch = Path.Combine(CacheRoot, ".fetch-" + Guid.NewGuid().ToString("N"));
            try
            {
                var root = buildpack.Kind == BuildpackKind.Git
                    ? await CloneAsync(buildpack, scratch, cancellationToken)
                    : await DownloadAsync(buildpack, scratch, cancellationToken);
                if (!File.Exists(Path.Combine(root, "bin", "compile")))
                    throw new StagingException($"The buildpack {buildpack} has no bin/compile, so it is not a Heroku buildpack.");
                if (Directory.Exists(target))
                    Directory.Delete(target, recursive: true);
                Directory.Move(root, target);
                Directory.SetLastWriteTimeUtc(target, DateTime.UtcNow);
                await File.WriteAllTextAsync(target + ".source", buildpack.Text + "\n", CancellationToken.None);
                return target;
            }
            catch (StagingException e) when (Directory.Exists(target) && !e.Message.Contains("bin/compile", StringComparison.Ordinal))
            {
                await output($" !     {e.Message} Using the copy fetched earlier.");
                return target;
            }
            finally
            {
                if (Directory.Exists(scratch))
                    Directory.Delete(scratch, recursive: true);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Removes every cached buildpack; they are fetched again when next used.</summary>
    public void Clear()
    {
        if (Directory.Exists(CacheRoot))
            Directory.Delete(CacheRoot, recursive: true);
    }

    private static async Task<string> CloneAsync(BuildpackReference buildpack, string scratch, CancellationToken cancellationToken)
    {
        var dir = Path.Combine(scratch, "bp");
        Directory.CreateDirectory(scratch);
        var clone = await GitAsync(["-c", "protocol.file.allow=always", "clone", "--quiet", "--", buildpack.Location, dir], null, cancellationToken);
        if (clone.ExitCode != 0)
            throw new StagingException($"The buildpack {buildpack} could not be fetched: git clone failed ({FirstLine(clone.Error)}).");
        if (buildpack.Ref is { } gitRef)
        {
            var checkout = await GitAsync(["checkout", "--quiet", gitRef, "--"], dir, cancellationToken);
            if (checkout.ExitCode != 0)
                throw new StagingException($"The buildpack {buildpack} could not be fetched: it has no branch, tag or commit '{gitRef}'.");
        }
        if (File.Exists(Path.Combine(dir, ".gitmodules")))
        {
            var submodules = await GitAsync(["-c", "protocol.file.allow=always", "submodule", "update", "--quiet", "--init", "--recursive"], dir, cancellationToken);
            if (submodules.ExitCode != 0)
                throw new StagingException($"The buildpack {buildpack} could not be fetched: its git submodules failed ({FirstLine(submodules.Error)}).");
        }
        Directory.Delete(Path.Combine(dir, ".git"), recursive: true);
        return dir;
    }

    private async Task<string> DownloadAsync(BuildpackReference buildpack, string scratch, CancellationToken cancellationToken)
    {
        var dir = Path.Combine(scratch, "bp");
        Directory.CreateDirectory(dir);
        var archive = Path.Combine(scratch, "buildpack.tgz");
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(GitTimeout);
            using var response = await http.GetAsync(buildpack.Location, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (!response.IsSuccessStatusCode)
                throw new StagingException($"The buildpack {buildpack} could not be fetched: the server answered {(int)response.StatusCode} {response.ReasonPhrase}.");
            if (response.Content.Headers.ContentLength > MaxTarballBytes)
                throw new StagingException($"The buildpack {buildpack} is larger than {MaxTarballBytes / (1024 * 1024)} MB.");
            await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
            await using var file = File.Create(archive);
            var buffer = new byte[81920];
            long total = 0;
            int read;
            while ((read = await body.ReadAsync(buffer, timeout.Token)) > 0)
            {
                total += read;
                if (total > MaxTarballBytes)
                    throw new StagingException($"The buildpack {buildpack} is larger than {MaxTarballBytes / (1024 * 1024)} MB.");
                await file.WriteAsync(buffer.AsMemory(0, read), timeout.Token);
            }
        }
        catch (HttpRequestException e)
        {
            throw new StagingException($"The buildpack {buildpack} could not be fetched: {e.Message.TrimEnd('.')}.");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new StagingException($"The buildpack {buildpack} could not be fetched within {GitTimeout.TotalMinutes:0} minutes.");
        }
        try
        {
            await using var stream = File.OpenRead(archive);
            await using var gzip = new GZipStream(stream, CompressionMode.Decompress);
            await ExtractAsync(gzip, dir, cancellationToken);
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
        {
            throw new StagingException($"The buildpack {buildpack} is not a valid .tgz archive.");
        }
        // GitHub-style archives wrap everything in one top-level directory.
        if (!Directory.Exists(Path.Combine(dir, "bin")) && Directory.GetFileSystemEntries(dir) is [var only] && Directory.Exists(only))
            return only;
        return dir;
    }

    /// <summary>Extracts regular files, directories and inward symlinks; nothing may land outside <paramref name="dir"/>.</summary>
    private static async Task ExtractAsync(Stream tar, string dir, CancellationToken cancellationToken)
    {
        using var reader = new TarReader(tar);
        while (await reader.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
        {
            var name = entry.Name.Replace('\\', '/').TrimStart('.', '/');
            if (entry.Name.StartsWith('/') || name.Split('/').Contains(".."))
                throw new InvalidDataException("entry outside the archive");
            if (name.Length == 0)
                continue;
            var path = Path.Combine(dir, name);
            switch (entry.EntryType)
            {
                case TarEntryType.Directory:
                    Directory.CreateDirectory(path);
                    break;
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    await using (var file = File.Create(path))
                        if (entry.DataStream is not null)
                            await entry.DataStream.CopyToAsync(file, cancellationToken);
                    File.SetUnixFileMode(path, (entry.Mode & (UnixFileMode)0x1FF) | UnixFileMode.UserRead | UnixFileMode.UserWrite);
                    break;
                case TarEntryType.SymbolicLink when PushedSource.SymlinkStaysInside(name.TrimEnd('/'), entry.LinkName):
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    File.CreateSymbolicLink(path, entry.LinkName);
                    break;
                default:
                    // Hard links, devices, escaping symlinks: a buildpack has no use for them.
                    break;
            }
        }
    }

    private static string FirstLine(string text)
    {
        var line = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "no output";
        return line.TrimEnd('.');
    }

    private static async Task<(int ExitCode, string Error)> GitAsync(IEnumerable<string> args, string? workingDirectory, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("git") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (workingDirectory is not null)
            start.WorkingDirectory = workingDirectory;
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.Environment["GIT_TERMINAL_PROMPT"] = "0";
        start.Environment["GIT_ASKPASS"] = "/bin/false";
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(GitTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"it did not finish within {GitTimeout.TotalMinutes:0} minutes");
        }
        await stdout;
        return (process.ExitCode, await stderr);
    }
}
