using System.Formats.Tar;
using LibGit2Sharp;

namespace Paas.Staging.Source;

/// <summary>
/// The tree of one pushed commit, read straight from git objects. Nothing is checked out on the host,
/// so a hostile symlink in the push can never make the platform read or write outside the tree.
/// </summary>
public sealed class PushedSource : IDisposable
{
    private const int AppUid = 1000;
    private readonly Repository _repository;
    private readonly string? _scratchRepository;

    public Commit Commit { get; }

    private PushedSource(Repository repository, Commit commit, string? scratchRepository)
    {
        _repository = repository;
        Commit = commit;
        _scratchRepository = scratchRepository;
    }

    /// <summary>
    /// Opens a commit of a bare repository. During a pre-receive hook git keeps the pushed objects in a
    /// quarantine directory; libgit2 cannot be pointed at it directly, so a scratch repository whose
    /// alternates name both the quarantine and the real object store stands in for the real one.
    /// </summary>
    public static PushedSource Open(string repositoryPath, string revision, string? quarantinePath, string scratchDirectory)
    {
        string? scratch = null;
        Repository repository;
        if (quarantinePath is null)
        {
            repository = new Repository(repositoryPath);
        }
        else
        {
            var objects = Path.GetFullPath(Path.Combine(repositoryPath, "objects")) + Path.DirectorySeparatorChar;
            var quarantine = Path.GetFullPath(quarantinePath);
            if (!quarantine.StartsWith(objects, StringComparison.Ordinal) || !Directory.Exists(quarantine))
                throw new StagingException("The push's quarantine directory is not inside the app's repository.");
            scratch = Path.Combine(scratchDirectory, "src-" + Guid.NewGuid().ToString("N"));
            Repository.Init(scratch, isBare: true);
            File.WriteAllText(Path.Combine(scratch, "objects", "info", "alternates"), quarantine + "\n" + objects.TrimEnd('/') + "\n");
            repository = new Repository(scratch);
        }
        var commit = repository.Lookup<Commit>(revision);
        if (commit is null)
        {
            repository.Dispose();
            if (scratch is not null) Directory.Delete(scratch, recursive: true);
            throw new StagingException($"Commit {revision} is not in the push.");
        }
        return new PushedSource(repository, commit, scratch);
    }

    /// <summary>The text of a regular file at the root of the tree, or null when there is none (a symlink counts as none).</summary>
    public string? ReadRootFile(string name)
    {
        var entry = Commit.Tree[name];
        if (entry is null || entry.TargetType != TreeEntryTargetType.Blob || entry.Mode == Mode.SymbolicLink)
            return null;
        return ((Blob)entry.Target).GetContentText();
    }

    /// <summary>How deep a pushed tree may nest; real apps stay far below, a tree bomb does not.</summary>
    public const int MaxDepth = 64;

    /// <summary>
    /// Checks the tree against the limits before anything is staged, stopping at the first limit crossed:
    /// a small push can name one subtree at every level (a tree bomb), so the walk counts what staging
    /// would write, entries as well as bytes (empty files weigh nothing but cost as much to write), and
    /// refuses names a checkout cannot hold. Throws <see cref="StagingException"/> with one sentence.
    /// </summary>
    public void CheckLimits(long maxBytes, int maxEntries)
    {
        long bytes = 0;
        var entries = 0;
        var pending = new Stack<(Tree Tree, string Path, int Depth)>([(Commit.Tree, "", 0)]);
        while (pending.TryPop(out var item))
        {
            foreach (var entry in item.Tree)
            {
                var path = item.Path + entry.Name;
                if (entry.Name is "." or ".." or "" || entry.Name.Contains('/') || entry.Name.Contains('\0'))
                    throw new StagingException($"The push has an entry named '{entry.Name}' in '{item.Path.TrimEnd('/')}/', which no checkout can hold; git refuses such trees too (git fsck).");
                if (++entries > maxEntries)
                    throw new StagingException($"The pushed source has more than {maxEntries} files and directories, the limit (PAAS_MAX_PUSH_FILES).");
                if (entry.TargetType == TreeEntryTargetType.Tree)
                {
                    if (item.Depth + 1 > MaxDepth)
                        throw new StagingException($"The pushed source nests directories more than {MaxDepth} deep (at '{path[..Math.Min(80, path.Length)]}…').");
                    pending.Push(((Tree)entry.Target, path + "/", item.Depth + 1));
                }
                else if (entry.TargetType == TreeEntryTargetType.Blob)
                {
                    bytes += _repository.ObjectDatabase.RetrieveObjectMetadata(entry.Target.Id).Size;
                    if (bytes > maxBytes)
                        throw new StagingException($"The pushed source is more than {maxBytes / (1024 * 1024)} MB, the limit (PAAS_MAX_PUSH_MB); remove large files from the repository.");
                }
            }
        }
    }

    /// <summary>
    /// Writes the tree as a tar owned by the app user. Symlinks are kept as links but must point inside
    /// the tree; one that escapes it fails the push, since a build step could otherwise be fooled into
    /// following it.
    /// </summary>
    public void WriteTar(Stream destination)
    {
        using var writer = new TarWriter(destination, TarEntryFormat.Pax, leaveOpen: true);
        var symlinks = new HashSet<string>(StringComparer.Ordinal);
        CollectSymlinks(Commit.Tree, "", symlinks);
        WriteTree(writer, Commit.Tree, "", symlinks);
    }

    private static void CollectSymlinks(Tree tree, string prefix, HashSet<string> symlinks)
    {
        foreach (var entry in tree)
        {
            if (entry.Mode == Mode.SymbolicLink)
                symlinks.Add(prefix + entry.Name);
            else if (entry.Mode == Mode.Directory)
                CollectSymlinks((Tree)entry.Target, prefix + entry.Name + "/", symlinks);
        }
    }

    private static void WriteTree(TarWriter writer, Tree tree, string prefix, IReadOnlySet<string> symlinks)
    {
        foreach (var entry in tree)
        {
            var path = prefix + entry.Name;
            switch (entry.Mode)
            {
                case Mode.Directory:
                    writer.WriteEntry(Owned(new PaxTarEntry(TarEntryType.Directory, path + "/"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute));
                    WriteTree(writer, (Tree)entry.Target, path + "/", symlinks);
                    break;
                case Mode.SymbolicLink:
                    var target = ((Blob)entry.Target).GetContentText();
                    if (!SymlinkStaysInside(path, target, symlinks))
                        throw new StagingException($"The symlink '{path}' points outside the app ('{target}'); remove it or make it relative inside the app.");
                    writer.WriteEntry(Owned(new PaxTarEntry(TarEntryType.SymbolicLink, path) { LinkName = target }, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.OtherRead));
                    break;
                case Mode.NonExecutableFile or Mode.NonExecutableGroupWritableFile or Mode.ExecutableFile:
                    var blob = (Blob)entry.Target;
                    var mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
                    if (entry.Mode == Mode.ExecutableFile)
                        mode |= UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
                    using (var content = blob.GetContentStream())
                    {
                        var file = Owned(new PaxTarEntry(TarEntryType.RegularFile, path), mode);
                        file.DataStream = content;
                        writer.WriteEntry(file);
                    }
                    break;
                default:
                    // Submodules (gitlinks) have no content in this repository; Heroku skips them too.
                    break;
            }
        }
    }

    private static PaxTarEntry Owned(PaxTarEntry entry, UnixFileMode mode)
    {
        entry.Uid = AppUid;
        entry.Gid = AppUid;
        entry.Mode = mode;
        entry.ModificationTime = DateTimeOffset.UnixEpoch.AddYears(30);
        return entry;
    }

    /// <summary>
    /// True when a link at <paramref name="linkPath"/> to <paramref name="target"/> resolves inside the tree.
    /// The path is followed component by component; passing through another of the tree's
    /// <paramref name="symlinks"/> on the way is refused, because the text alone no longer says where that
    /// leads (`d/up -> ..` makes `d/up/d/up/../../..` escape while it looks like it stays inside).
    /// </summary>
    public static bool SymlinkStaysInside(string linkPath, string target, IReadOnlySet<string>? symlinks = null)
    {
        if (target.Length == 0 || target.StartsWith('/'))
            return false;
        var at = linkPath.Split('/').SkipLast(1).ToList();
        var parts = target.Split('/').Where(p => p is not ("" or ".")).ToList();
        for (var i = 0; i < parts.Count; i++)
        {
            if (parts[i] == "..")
            {
                if (at.Count == 0)
                    return false;
                at.RemoveAt(at.Count - 1);
                continue;
            }
            at.Add(parts[i]);
            if (i < parts.Count - 1 && symlinks is not null && symlinks.Contains(string.Join('/', at)))
                return false;
        }
        return true;
    }

    public void Dispose()
    {
        _repository.Dispose();
        if (_scratchRepository is not null && Directory.Exists(_scratchRepository))
            Directory.Delete(_scratchRepository, recursive: true);
    }
}
