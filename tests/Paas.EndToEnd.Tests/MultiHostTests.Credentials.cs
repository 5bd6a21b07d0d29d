using System.Net;
using Paas.EndToEnd.Tests.Infrastructure;
using StackExchange.Redis;

namespace Paas.EndToEnd.Tests;

/// <summary>Between components, across hosts: a cell agent answers only the cluster secret, Redis only its password.</summary>
public sealed partial class MultiHostTests
{
    [Fact]
    public async Task ACellAgentCallWithoutTheSecret_AndARedisClientWithoutThePassword_AreRefused()
    {
        var secret = await platform.CellSecretAsync();
        foreach (var (name, _) in MultiHostPlatform.HostLayout)
        {
            var agent = $"http://{platform.Host(name).Address}:{MultiHostPlatform.CellPort}";
            Assert.Equal(HttpStatusCode.Unauthorized, await CellCallAsync(HttpMethod.Get, $"{agent}/v1/instances", null));
            Assert.Equal(HttpStatusCode.Unauthorized, await CellCallAsync(HttpMethod.Get, $"{agent}/v1/instances", "not-the-secret"));
            // Nothing is started on a cell without the secret, whatever the request holds.
            Assert.Equal(HttpStatusCode.Unauthorized, await CellCallAsync(HttpMethod.Post, $"{agent}/v1/instances", null));
            Assert.Equal(HttpStatusCode.Unauthorized, await CellCallAsync(HttpMethod.Post, $"{agent}/v1/images/prepare", null));
            // With it, the same call is answered: the refusals above were the credential's doing.
            Assert.Equal(HttpStatusCode.OK, await CellCallAsync(HttpMethod.Get, $"{agent}/v1/instances", secret));
        }

        // Redis, at the address the hosts use and on loopback: every command before AUTH is refused.
        var server = platform.RedisServer;
        foreach (var address in new[] { server.Address, server.LoopbackAddress })
        {
            Assert.StartsWith("-NOAUTH", await RedisServer.SendAsync(address, "PING\r\n"));
            Assert.StartsWith("-NOAUTH", await RedisServer.SendAsync(address, $"KEYS {platform.RedisPrefix}*\r\n"));
            Assert.StartsWith("-WRONGPASS", await RedisServer.SendAsync(address, "AUTH not-the-password\r\n"));
        }
        Assert.Contains("+PONG", await RedisServer.SendAsync(server.Address, $"AUTH {server.Password}\r\nPING\r\n"));
        // The platform's own client library, given no password, cannot connect at all.
        var refused = await Assert.ThrowsAnyAsync<RedisException>(async () =>
        {
            using var anonymous = await ConnectionMultiplexer.ConnectAsync($"{server.Address},connectTimeout=3000,connectRetry=0");
            await anonymous.GetDatabase().PingAsync();
        });
        log.WriteLine($"StackExchange.Redis without the password: {refused.Message}");
        Assert.Matches("(?i)auth", refused.Message);
    }

    private async Task<HttpStatusCode> CellCallAsync(HttpMethod method, string url, string? secret)
    {
        using var request = new HttpRequestMessage(method, url);
        if (secret is not null)
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret);
        if (method == HttpMethod.Post)
            request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
        using var response = await platform.Http.SendAsync(request);
        return response.StatusCode;
    }
}
