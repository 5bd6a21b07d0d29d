using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using Paas.Controller.Deploys;
using Paas.Controller.Git;

namespace Paas.Controller.Tests.Git;

/// <summary>
/// The hooks and the controller speak one contract (<see cref="HookContract"/>): the installed scripts are
/// rendered from it, and a rendered pre-receive hook, run for real against a listener, sends what the
/// controller's endpoint reads and obeys the status line it answers with.
/// </summary>
public sealed class HookContractTests
{
    private static string Template(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Git", name));

    [Fact]
    public void EveryHookTemplate_RendersWholly_AndIsValidBash()
    {
        foreach (var name in HookContract.Hooks)
        {
            var rendered = HookContract.Render(Template(name));
            Assert.DoesNotContain("{{", rendered);
            var path = Path.GetTempFileName();
            File.WriteAllText(path, rendered);
            var (exit, output) = Run("bash", ["-n", path], "", new Dictionary<string, string>());
            File.Delete(path);
            Assert.True(exit == 0, $"{name}: {output}");
        }
    }

    [Fact]
    public void ATokenTheContractDoesNotKnow_IsRefusedAtInstall()
    {
        var refused = Assert.Throws<InvalidOperationException>(() => HookContract.Render("curl -H \"{{RenamedHeader}}: x\""));
        Assert.Contains("RenamedHeader", refused.Message);
    }

    [Theory]
    [InlineData(true, 0)]
    [InlineData(false, 1)]
    public async Task ThePreReceiveHook_SendsTheContractsHeaders_AndExitsByTheStatusLine(bool deployed, int expectedExit)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var secret = new HookSecret();
        var environment = HookContract.Environment($"http://127.0.0.1:{port}", secret, "shop");
        environment["REMOTE_USER"] = "alice";
        environment["PATH"] = Environment.GetEnvironmentVariable("PATH")!;
        var hook = Path.GetTempFileName();
        File.WriteAllText(hook, HookContract.Render(Template("pre-receive")));

        var serve = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            var head = await ReadHeadAsync(stream);
            var body = $"-----> Building shop\n{HookContract.StatusLine(deployed)}\n";
            var answer = $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\nConnection: close\r\n\r\n{body}";
            await stream.WriteAsync(Encoding.UTF8.GetBytes(answer));
            return head;
        });
        var revision = new string('a', 40);
        var (exit, output) = Run("bash", [hook], $"{new string('0', 40)} {revision} refs/heads/main\n", environment);
        var request = await serve.WaitAsync(TimeSpan.FromSeconds(10));
        File.Delete(hook);

        Assert.StartsWith($"POST {HookEndpoint.Path} ", request);
        Assert.Contains($"{HookContract.SecretHeader}: {secret.Value}\r\n", request);
        Assert.Contains($"{HookContract.AppHeader}: shop\r\n", request);
        Assert.Contains($"{HookContract.UserHeader}: alice\r\n", request);
        Assert.Contains($"{HookContract.RevisionHeader}: {revision}\r\n", request);
        Assert.Contains("-----> Building shop", output);
        Assert.DoesNotContain(HookContract.StatusPrefix, output);
        Assert.Equal(expectedExit, exit);
    }

    [Fact]
    public void AHookEndpoint_AdmitsOnlyLoopbackWithTheSecret()
    {
        var secret = new HookSecret();
        Assert.True(HookContract.Admits(Request(IPAddress.Loopback, secret.Value), secret));
        Assert.False(HookContract.Admits(Request(IPAddress.Loopback, "guess"), secret));
        Assert.False(HookContract.Admits(Request(IPAddress.Parse("10.0.0.7"), secret.Value), secret));
        Assert.False(HookContract.Admits(Request(null, secret.Value), secret));
    }

    private static DefaultHttpContext Request(IPAddress? from, string secret)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = from;
        context.Request.Headers[HookContract.SecretHeader] = secret;
        return context;
    }

    private static async Task<string> ReadHeadAsync(NetworkStream stream)
    {
        var head = new StringBuilder();
        var buffer = new byte[4096];
        while (!head.ToString().Contains("\r\n\r\n"))
        {
            var read = await stream.ReadAsync(buffer);
            if (read == 0)
                break;
            head.Append(Encoding.Latin1.GetString(buffer, 0, read));
        }
        return head.ToString();
    }

    private static (int Exit, string Output) Run(string file, string[] arguments, string input, IDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        start.Environment.Clear();
        foreach (var (name, value) in environment)
            start.Environment[name] = value;
        using var process = Process.Start(start)!;
        process.StandardInput.Write(input);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(15_000))
        {
            process.Kill();
            throw new TimeoutException($"{file} did not finish");
        }
        return (process.ExitCode, output.Result + errors.Result);
    }
}
