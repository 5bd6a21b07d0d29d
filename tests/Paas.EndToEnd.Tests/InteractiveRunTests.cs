using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>
/// `paas run` at a terminal: `script` gives the CLI a pseudo-terminal, as a person's terminal would, and the test
/// types into it. The container's shell must prompt, echo, answer, take the terminal's size and its changes,
/// stop on Ctrl-C, and its `exit 3` must be the CLI's exit code; with piped input the run stays as it was.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class InteractiveRunTests(PlatformFixture platform)
{
    [Fact]
    public async Task Run_AtATerminal_IsInteractive_AndWithPipedInputIsNot()
    {
        var app = await AppUnderTest.PushedAsync(platform, "tty", "python");
        var flag = Path.Combine(platform.DataDirectory, $"resize-{app.Name}");
        var cli = $"dotnet {RepoPaths.Dll("src/Paas.Cli", "paas")} run -a {app.Name} -- sh";
        // The terminal starts 132x40; when the test creates the flag file it becomes 90x20, as a window dragged
        // smaller (the kernel sends the CLI SIGWINCH). A background job of `sh -c` reads /dev/null, hence /dev/tty.
        var wrapper = $"stty cols 132 rows 40; (while [ ! -e {flag} ]; do sleep 0.1; done; stty cols 90 rows 20 </dev/tty) & "
            // After the session the terminal must be back in line mode (raw mode would leave it -icanon).
            + $"{cli}; code=$?; echo \"after: $(stty -a | tr ' ;' '\\n\\n' | grep -x -- '-\\?icanon')\"; exit $code";
        var start = ProcessRunner.StartInfo("script", ["-q", "-e", "-c", wrapper, "/dev/null"], app.WorkTree, platform.ClientEnvironment());
        start.RedirectStandardInput = true;
        start.Environment["TERM"] = "xterm";
        using var terminal = Process.Start(start)!;
        var screen = new StringBuilder();
        var reading = Task.Run(async () =>
        {
            var buffer = new char[4096];
            int read;
            while ((read = await terminal.StandardOutput.ReadAsync(buffer)) > 0)
                lock (screen)
                    screen.Append(buffer, 0, read);
        });
        string Screen()
        {
            lock (screen)
                return screen.ToString();
        }
        async Task SeeAsync(Func<string, bool> seen, string what, TimeSpan? within = null, Func<Task>? meanwhile = null)
        {
            var clock = Stopwatch.StartNew();
            while (!seen(Screen()))
            {
                if (clock.Elapsed > (within ?? TimeSpan.FromSeconds(30)) || terminal.HasExited && reading.IsCompleted && !seen(Screen()))
                    Assert.Fail($"Never saw {what}. The terminal showed:\n{Screen()}\n--- stderr\n{(terminal.HasExited ? await terminal.StandardError.ReadToEndAsync() : "")}");
                if (meanwhile is not null)
                    await meanwhile();
                await Task.Delay(200);
            }
        }
        async Task TypeAsync(string keys)
        {
            await terminal.StandardInput.WriteAsync(keys);
            await terminal.StandardInput.FlushAsync();
        }

        try
        {
            // The shell prompts: it has a terminal (without one it reads nothing and exits at once).
            await SeeAsync(s => s.Contains("$ "), "the container shell's prompt", TimeSpan.FromMinutes(2));
            var word = $"hi-{Random.Shared.Next(100_000, 999_999)}";
            await TypeAsync($"echo {word}\r");
            // The typed line is echoed by the container's TTY, then its output appears on a line of its own.
            await SeeAsync(s => s.Contains($"echo {word}") && Regex.IsMatch(s, $@"\n{word}\r?\n"), $"`echo {word}` echoed and answered");

            await TypeAsync("stty size\r");
            await SeeAsync(s => s.Contains("40 132"), "the terminal's size (40 132) in the container");
            File.WriteAllText(flag, "");
            // Resized while the shell runs: the next `stty size` shows the new size once SIGWINCH reached the engine.
            await SeeAsync(s => s.Contains("20 90"), "the new size (20 90) after the resize", meanwhile: () => TypeAsync("stty size\r"));

            // Ctrl-C is a byte to the container's TTY, which interrupts the foreground command, not the session.
            await TypeAsync("sleep 30\r");
            await Task.Delay(500);
            await TypeAsync("\u0003");
            await TypeAsync("echo after-$?\r");
            await SeeAsync(s => s.Contains("after-130"), "`sleep 30` interrupted by Ctrl-C (status 130)", TimeSpan.FromSeconds(20));

            await TypeAsync("exit 3\r");
            Assert.True(terminal.WaitForExit(TimeSpan.FromSeconds(60)), $"`exit 3` did not end the session:\n{Screen()}");
            await reading;
            Assert.Contains("after: icanon", Screen());
            Assert.True(terminal.ExitCode == 3, $"exit code {terminal.ExitCode}, not 3:\n{Screen()}\n--- stderr\n{await terminal.StandardError.ReadToEndAsync()}");
        }
        finally
        {
            if (!terminal.HasExited)
                terminal.Kill(entireProcessTree: true);
            File.Delete(flag);
        }

        // Refused (no such app) at a terminal: one sentence and a failure exit, no trace.
        var refused = await ProcessRunner.RunAsync("script", ["-q", "-e", "-c", $"dotnet {RepoPaths.Dll("src/Paas.Cli", "paas")} run -a no-such-app-tty -- sh", "/dev/null"],
            app.WorkTree, platform.ClientEnvironment(), TimeSpan.FromMinutes(1), stdin: "");
        Assert.True(refused.ExitCode == 1, refused.ToString());
        Assert.Contains("The app was not found, or has no release yet (push first).", refused.Stdout);
        Assert.DoesNotContain("   at ", refused.Stdout);

        // The terminal closed mid-command (the window shut): the one-off container goes with it.
        var abandoned = ProcessRunner.StartInfo("script", ["-q", "-c", $"dotnet {RepoPaths.Dll("src/Paas.Cli", "paas")} run -a {app.Name} -- sleep 300", "/dev/null"],
            app.WorkTree, platform.ClientEnvironment());
        abandoned.RedirectStandardInput = true;
        using (var closing = Process.Start(abandoned)!)
        {
            await WaitForAsync(async () => (await platform.ContainersAsync(app.Name)).Any(IsRun), "the one-off container of `sleep 300`");
            closing.Kill(entireProcessTree: true);
        }
        await WaitForAsync(async () => !(await platform.ContainersAsync(app.Name)).Any(IsRun), "the one-off container removed after its terminal closed");

        // Piped input (a script): no terminal in the container, output as lines, as before.
        var piped = await platform.PaasWithInputAsync(app.WorkTree, "ignored\n", "run", "-a", app.Name, "--", "echo piped-ok; tty; exit 4");
        Assert.True(piped.ExitCode == 4, piped.ToString());
        Assert.Equal("piped-ok\nnot a tty\n", piped.Stdout);
        var events = AppUnderTest.Must(await app.PaasAsync("events")).Stdout;
        Assert.Contains("Ran `sh` interactively on v2: exited with code 3", events);
        Assert.DoesNotContain(await platform.ContainersAsync(app.Name), IsRun);
    }

    private static bool IsRun(Docker.DotNet.Models.ContainerListResponse container) =>
        container.Labels.TryGetValue("paas.role", out var role) && role == "run";

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(60))
                Assert.Fail($"Never saw {what} within 60 s.");
            await Task.Delay(250);
        }
    }
}
