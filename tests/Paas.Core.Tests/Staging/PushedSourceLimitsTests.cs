using LibGit2Sharp;
using Paas.Staging;
using Paas.Staging.Source;

namespace Paas.Core.Tests.Staging;

/// <summary>Hostile trees, built object by object as a pusher could: refused before staging, with a reason.</summary>
public sealed class PushedSourceLimitsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("paas-pushed-").FullName;
    private readonly Repository _repository;

    public PushedSourceLimitsTests()
    {
        Repository.Init(Path.Combine(_dir, "app.git"), isBare: true);
        _repository = new Repository(Path.Combine(_dir, "app.git"));
    }

    public void Dispose()
    {
        _repository.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private Blob Blob(string text) => _repository.ObjectDatabase.CreateBlob(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text)));

    private PushedSource Open(Tree tree)
    {
        var who = new Signature("t", "t@example.com", DateTimeOffset.UnixEpoch);
        var commit = _repository.ObjectDatabase.CreateCommit(who, who, "push", tree, [], prettifyMessage: false);
        return PushedSource.Open(Path.Combine(_dir, "app.git"), commit.Sha, null, _dir);
    }

    [Fact]
    public void ATreeBomb_IsRefusedAtTheEntryLimit_WithoutWalkingItAll()
    {
        // Ten copies of the level below at each of eight levels: 10^8 entries from a few hundred bytes of objects.
        var tree = _repository.ObjectDatabase.CreateTree(new TreeDefinition().Add("f", Blob(""), Mode.NonExecutableFile));
        for (var level = 0; level < 8; level++)
        {
            var definition = new TreeDefinition();
            for (var i = 0; i < 10; i++)
                definition.Add("d" + i, tree);
            tree = _repository.ObjectDatabase.CreateTree(definition);
        }
        using var source = Open(tree);

        // Refused at the 100,001st entry: the 10^8 behind it are never visited (the old walk would not end).
        var refused = Assert.Throws<StagingException>(() => source.CheckLimits(512L * 1024 * 1024, 100_000));

        Assert.Contains("more than 100000 files and directories", refused.Message);
    }

    [Fact]
    public void EmptyFiles_CountAgainstTheEntryLimit()
    {
        var definition = new TreeDefinition();
        var empty = Blob("");
        for (var i = 0; i < 1500; i++)
            definition.Add($"empty-{i}", empty, Mode.NonExecutableFile);
        using var source = Open(_repository.ObjectDatabase.CreateTree(definition));

        var refused = Assert.Throws<StagingException>(() => source.CheckLimits(1024, 1000));

        Assert.Contains("more than 1000 files", refused.Message);
    }

    [Fact]
    public void DeepNesting_IsRefused()
    {
        var tree = _repository.ObjectDatabase.CreateTree(new TreeDefinition().Add("f", Blob("x"), Mode.NonExecutableFile));
        for (var level = 0; level < PushedSource.MaxDepth + 1; level++)
            tree = _repository.ObjectDatabase.CreateTree(new TreeDefinition().Add("d", tree));
        using var source = Open(tree);

        var refused = Assert.Throws<StagingException>(() => source.CheckLimits(512L * 1024 * 1024, 100_000));

        Assert.Contains($"more than {PushedSource.MaxDepth} deep", refused.Message);
    }

    [Fact]
    public void ChainedSymlinks_ThatEscapeThroughAnotherSymlink_AreRefused()
    {
        // ln -s .. d/up; ln -s d/up/d/up/../../.. x: each text alone looks inside the tree.
        var d = _repository.ObjectDatabase.CreateTree(new TreeDefinition().Add("up", Blob(".."), Mode.SymbolicLink));
        var root = new TreeDefinition().Add("d", d).Add("x", Blob("d/up/d/up/../../.."), Mode.SymbolicLink);
        using var source = Open(_repository.ObjectDatabase.CreateTree(root));

        var refused = Assert.Throws<StagingException>(() => source.WriteTar(Stream.Null));

        Assert.Contains("The symlink 'x' points outside the app", refused.Message);
    }

    [Fact]
    public void AnOrdinaryTree_PassesTheLimits()
    {
        var lib = _repository.ObjectDatabase.CreateTree(new TreeDefinition().Add("a.js", Blob("1"), Mode.NonExecutableFile));
        var root = new TreeDefinition().Add("lib", lib).Add("index.js", Blob("2"), Mode.NonExecutableFile).Add("current", Blob("lib/a.js"), Mode.SymbolicLink);
        using var source = Open(_repository.ObjectDatabase.CreateTree(root));

        source.CheckLimits(1024, 10);
        source.WriteTar(Stream.Null);
    }
}
