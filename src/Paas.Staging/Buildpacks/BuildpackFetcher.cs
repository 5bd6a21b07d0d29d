using System.Collections.Concurrent;
using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Paas.Staging.Source;

namespace Paas.Staging.Buildpacks;

/// <summary>
/// Fetches custom buildpacks on the controller host (staging containers fetch nothing) and caches them per
/// app, by URL and ref: `APP/KEY/` holds the buildpack, `APP/KEY.source` says where it came from. One app's
/// fetch is never another's, and an app's copies go with the app (<see cref="ForgetApp"/>). A copy pinned to
/// a commit is kept for good; others are fetched again when older than <see cref="Refresh"/>, falling back
/// to the cached copy if that fetch fails.
/// git runs as an unprivileged user (nobody), so a buildpack URL can never make it read what root can.
/// A tenant's buildpack (<see cref="BuildpackTrust"/>) comes from public hosts over http(s) only: git is
/// held to those protocols, follows no redirect and connects to the addresses checked here; tarballs are
/// downloaded through <paramref name="tenantHttp"/>, which connects to public addresses only.
/// </summary>
public sealed class BuildpackFetcher(string cacheRoot, HttpClient operatorHttp, HttpClient tenantHttp, bool allowPrivateHosts = false, TimeProvider? time = null)
{
    // Injected so the cache's refresh rule can be tested without waiting ten minutes.
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public static readonly TimeSpan Refresh = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan GitTimeout = TimeSpan.FromMinutes(3);
    private const long MaxTarballBytes = 200L * 1024 * 1024;
    /// <summary>nobody:nogroup on Debian: owns nothing the platform keeps.</summary>
    private const int FetchUid = 65534;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new();

    public string CacheRoot { get; } = cacheRoot;

    /// <summary>The local directory of the buildpack; throws <see cref="StagingException"/> naming it when it cannot be fetched.</summary>
    public async Task<string> FetchAsync(BuildpackReference buildpack, string app, BuildpackTrust trust, Func<string, Task> output, CancellationToken cancellationToken)
    {
        if (buildpack.Kind == BuildpackKind.BuiltIn)
            throw new ArgumentException("Built-in buildpacks are not fetched.", nameof(buildpack));
        if (buildpack.RefusalFor(trust) is { } refusal)
            throw new StagingException(refusal);
        var tenant = trust == BuildpackTrust.Tenant;
        var appRoot = Path.Combine(CacheRoot, app);
        Directory.CreateDirectory(appRoot);
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(app + "\n" + buildpack.Text)))[..24];
        var target = Path.Combine(appRoot, key);
        var gate = _locks.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            var pinned = buildpack.Ref is { Length: 40 } r && r.All(Uri.IsHexDigit);
            if (Directory.Exists(target) && (pinned || _time.GetUtcNow().UtcDateTime - Directory.GetLastWriteTimeUtc(target) < Refresh))
            {
                await output($"-----> Using buildpack {buildpack} (cached)");
                return target;
            }
            await output($"-----> Fetching buildpack {buildpack}");
            var scratch = Path.Combine(appRoot, ".fetch-" + Guid.NewGuid().ToString("N"));
            try
            {
                var root = buildpack.Kind == BuildpackKind.Git
                    ? await CloneAsync(buildpack, scratch, tenant, cancellationToken)
                    : await DownloadAsync(buildpack, scratch, tenant && !allowPrivateHosts, cancellationToken);
                if (!File.Exists(Path.Combine(root, "bin", "compile")))
                    throw new StagingException($"The buildpack {buildpack} has no bin/compile, so it is not a Heroku buildpack.");
                if (Directory.Exists(target))
                    Directory.Delete(target, recursive: true);
                Directory.Move(root, target);
                Directory.SetLastWriteTimeUtc(target, _time.GetUtcNow().UtcDateTime);
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

    /// <summary>Removes an app's cached buildpacks (when the app is destroyed: a later app of the same name starts afresh).</summary>
    public void ForgetApp(string app)
    {
        var appRoot = Path.Combine(CacheRoot, app);
        if (Directory.Exists(appRoot))
            Directory.Delete(appRoot, recursive: true);
    }

    /// <summary>Removes every cached buildpack; they are fetched again when next used.</summary>
    public void Clear()
    {
        if (Directory.Exists(CacheRoot))
            Directory.Delete(CacheRoot, recursive: true);
    }

    private async Task<string> CloneAsync(BuildpackReference buildpack, string scratch, bool tenant, CancellationToken cancellationToken)
    {
        var dir = Path.Combine(scratch, "bp");
        Directory.CreateDirectory(scratch);
        // The fetch user owns its scratch directory and nothing else.
        if (Environment.IsPrivilegedProcess)
            FileOwner.Give(scratch, FetchUid);
        var options = tenant
            ? await TenantGitOptionsAsync(buildpack, [new Uri(buildpack.Location)], cancellationToken)
            : ["-c", "protocol.file.allow=always"];
        // An operator's file:// repository belongs to someone other than the fetch user, which git refuses
        // unless told otherwise; git reads safe.directory only from the global file, so it goes in the fetch's HOME.
        if (!tenant && buildpack.IsLocal)
            await File.WriteAllTextAsync(Path.Combine(scratch, ".gitconfig"), "[safe]\n\tdirectory = *\n", cancellationToken);
        var clone = await GitAsync([.. options, "clone", "--quiet", "--", buildpack.Location, dir], scratch, scratch, cancellationToken);
        if (clone.ExitCode != 0)
            throw new StagingException($"The buildpack {buildpack} could not be fetched: git clone failed ({FirstLine(clone.Error)}).");
        if (buildpack.Ref is { } gitRef)
        {
            var checkout = await GitAsync(["checkout", "--quiet", gitRef, "--"], dir, scratch, cancellationToken);
            if (checkout.ExitCode != 0)
                throw new StagingException($"The buildpack {buildpack} could not be fetched: it has no branch, tag or commit '{gitRef}'.");
        }
        if (File.Exists(Path.Combine(dir, ".gitmodules")))
        {
            if (tenant)
            {
                // Submodules are fetched by the same rules: each URL's host is checked and pinned too.
                var urls = await GitAsync(["config", "--file", ".gitmodules", "--get-regexp", @"^submodule\..*\.url$"], dir, scratch, cancellationToken);
                var uris = new List<Uri> { new(buildpack.Location) };
                foreach (var line in urls.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    var url = line[(line.IndexOf(' ') + 1)..].Trim();
                    if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
                        throw new StagingException($"The buildpack {buildpack} could not be fetched: its submodule URL '{url}' is not an https or http URL.");
                    uris.Add(uri);
                }
                options = await TenantGitOptionsAsync(buildpack, uris, cancellationToken);
            }
            var submodules = await GitAsync([.. options, "submodule", "update", "--quiet", "--init", "--recursive"], dir, scratch, cancellationToken);
            if (submodules.ExitCode != 0)
                throw new StagingException($"The buildpack {buildpack} could not be fetched: its git submodules failed ({FirstLine(submodules.Error)}).");
        }
        Directory.Delete(Path.Combine(dir, ".git"), recursive: true);
        return dir;
    }

    /// <summary>
    /// git options for a tenant's fetch: http(s) only, no redirects, and (unless an operator allows private
    /// hosts) each host pinned (curl's resolve list) to the public addresses checked here, so a second DNS
    /// answer cannot point git elsewhere.
    /// </summary>
    private async Task<List<string>> TenantGitOptionsAsync(BuildpackReference buildpack, IEnumerable<Uri> uris, CancellationToken cancellationToken)
    {
        var options = new List<string>
        {
            "-c", "protocol.allow=never", "-c", "protocol.https.allow=always", "-c", "protocol.http.allow=always",
            "-c", "http.followRedirects=false",
        };
        foreach (var uri in allowPrivateHosts ? [] : uris.DistinctBy(u => (u.Host, u.Port)))
        {
            var addresses = await ResolveForTenantAsync(buildpack, uri.Host, cancellationToken);
            options.AddRange(["-c", $"http.curloptResolve=+{uri.IdnHost}:{uri.Port}:{string.Join(',', addresses.Select(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{a}]" : a.ToString()))}"]);
        }
        return options;
    }

    private static async Task<System.Net.IPAddress[]> ResolveForTenantAsync(BuildpackReference buildpack, string host, CancellationToken cancellationToken)
    {
        try
        {
            return await PublicNetwork.ResolvePublicAsync(host, cancellationToken);
        }
        catch (NonPublicAddressException)
        {
            throw NotPublic(buildpack);
        }
        catch (System.Net.Sockets.SocketException)
        {
            throw new StagingException($"The buildpack {buildpack} could not be fetched: its host {host} was not found.");
        }
    }

    // One message whatever is behind the address, so a refusal tells nothing about the platform's network.
    private static StagingException NotPublic(BuildpackReference buildpack) =>
        new($"The buildpack {buildpack} could not be fetched: its host is not a public address, and buildpacks come from public hosts unless an operator allows private ones (PAAS_BUILDPACK_ALLOW_PRIVATE_HOSTS).");

    private async Task<string> DownloadAsync(BuildpackReference buildpack, string scratch, bool publicOnly, CancellationToken cancellationToken)
    {
        var dir = Path.Combine(scratch, "bp");
        Directory.CreateDirectory(dir);
        var archive = Path.Combine(scratch, "buildpack.tgz");
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(GitTimeout);
            var http = publicOnly ? tenantHttp : operatorHttp;
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
        catch (HttpRequestException e) when (e.InnerException is NonPublicAddressException)
        {
            throw NotPublic(buildpack);
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
            if (SafeTar.RelativeName(entry) is { } name)
                await SafeTar.ExtractEntryAsync(entry, name, dir, cancellationToken);
        }
    }

    private static string FirstLine(string text)
    {
        var line = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "no output";
        return line.TrimEnd('.');
    }

    /// <summary>git, as the unprivileged fetch user when this process is root, with HOME in the scratch directory.</summary>
    private static async Task<(int ExitCode, string Output, string Error)> GitAsync(IEnumerable<string> args, string? workingDirectory, string home, CancellationToken cancellationToken)
    {
        ProcessStartInfo start;
        if (Environment.IsPrivilegedProcess)
        {
            start = new ProcessStartInfo("setpriv");
            foreach (var arg in new[] { $"--reuid={FetchUid}", $"--regid={FetchUid}", "--clear-groups", "--inh-caps=-all", "--", "git" })
                start.ArgumentList.Add(arg);
        }
        else
        {
            start = new ProcessStartInfo("git");
        }
        start.RedirectStandardError = true;
        start.RedirectStandardOutput = true;
        start.UseShellExecute = false;
        if (workingDirectory is not null)
            start.WorkingDirectory = workingDirectory;
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.Environment["HOME"] = home;
        start.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
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
            return (-1, "", $"it did not finish within {GitTimeout.TotalMinutes:0} minutes");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
