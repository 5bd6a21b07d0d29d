using System.Diagnostics;
using System.Text;

namespace Paas.EndToEnd.Tests.Infrastructure;

public static class ProcessRunner
{
    /// <summary>How every test process starts: output captured, the given arguments and environment, no shell.</summary>
    public static ProcessStartInfo StartInfo(string file, IEnumerable<string> args, string? workingDirectory, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        foreach (var (name, value) in environment)
            start.Environment[name] = value;
        return start;
    }

    /// <summary>Runs a program to completion (bounded by <paramref name="timeout"/>) and captures its output.</summary>
    public static async Task<ProcessResult> RunAsync(string file, IEnumerable<string> args, string? workingDirectory, IReadOnlyDictionary<string, string> environment, TimeSpan timeout, string? stdin = null)
    {
        var start = StartInfo(file, args, workingDirectory, environment);
        start.RedirectStandardInput = true;
        using var process = Process.Start(start)!;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (stdin is not null)
            await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout.TotalSeconds} s.\n{stdout}\n{stderr}");
        }
        process.WaitForExit();
        return new ProcessResult(process.ExitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs a short system command (ip, htpasswd, ...) that must succeed; its output is in the exception when it does not.</summary>
    public static async Task<ProcessResult> MustRunAsync(string file, params string[] args)
    {
        var result = await RunAsync(file, args, null, new Dictionary<string, string>(), TimeSpan.FromMinutes(1));
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed: {result}");
        return result;
    }
}
