using Microsoft.AspNetCore.Http;
using Paas.Controller.Leadership;

namespace Paas.Controller.Tests.Leadership;

public sealed class LeaderForwardingTests
{
    [Theory]
    [InlineData("POST", "/v1/apps", "", true)]
    [InlineData("PATCH", "/v1/apps/x/config", "", true)]
    [InlineData("DELETE", "/v1/apps/x", "", true)]
    [InlineData("GET", "/v1/apps", "", false)]
    [InlineData("GET", "/x.git/info/refs", "?service=git-receive-pack", true)]
    [InlineData("POST", "/x.git/git-receive-pack", "", true)]
    [InlineData("GET", "/x.git/info/refs", "?service=git-upload-pack", false)]
    [InlineData("POST", "/x.git/git-upload-pack", "", false)]
    [InlineData("POST", "/internal/hooks/pre-receive", "", false)]
    [InlineData("POST", "/apps/x/log-sessions", "", false)]
    [InlineData("POST", "/internal/replicas/x.git/git-receive-pack", "", false)]
    public void IsWrite_WhatOnlyTheLeaderMayDo(string method, string path, string query, bool write)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = path;
        context.Request.QueryString = new QueryString(query.Length == 0 ? null : query);
        Assert.Equal(write, LeaderForwarding.IsWrite(context.Request));
    }
}
