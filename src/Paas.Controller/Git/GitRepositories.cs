using LibGit2Sharp;

namespace Paas.Controller.Git;

/// <summary>The apps' bare git repositories under the data directory, all sharing one pre-receive hook.</summary>
public sealed class GitRepositories
{
    public GitRepositories(string root, string hooksDirectory)
    {
        Root = root;
        HooksDirectory = hooksDirectory;
        // Root only: app containers run as uid 1000, and every app's source is in here.
        Directory.CreateDirectory(root);
        File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.CreateDirectory(hooksDirectory);
        // Rewritten at every start so an upgraded platform brings its hooks to every existing repository.
        foreach (var name in HookContract.Hooks)
        {
            var hook = Path.Combine(hooksDirectory, name);
            File.WriteAllText(hook, HookContract.Render(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Git", name))));
            File.SetUnixFileMode(hook, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        }
    }

    public string Root { get; }
    public string HooksDirectory { get; }

    public string PathOf(string app) => Path.Combine(Root, app + ".git");

    public bool Exists(string app) => Directory.Exists(PathOf(app));

    public void Create(string app)
    {
        var path = PathOf(app);
        if (!Directory.Exists(path))
            Repository.Init(path, isBare: true);
        using var repository = new Repository(path);
        repository.Config.Set("core.hooksPath", HooksDirectory);
        repository.Config.Set("http.receivepack", true);
        // Pushing a new history to an app is normal on Heroku; history is not the record of deploys, releases are.
        repository.Config.Set("receive.denyNonFastForwards", false);
    }

    /// <summary>Moves the app's repository to its new name (`apps:rename`); nothing when it was moved already.</summary>
    public void Move(string app, string newName)
    {
        if (Directory.Exists(PathOf(app)) && !Directory.Exists(PathOf(newName)))
            Directory.Move(PathOf(app), PathOf(newName));
    }

    public void Delete(string app)
    {
        var path = PathOf(app);
        if (Directory.Exists(path))
            Directory.Delete(path, recursive: true);
    }
}
