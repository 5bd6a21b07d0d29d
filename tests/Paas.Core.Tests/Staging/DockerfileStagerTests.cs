using Docker.DotNet.Models;
using Paas.Staging.Dockerfiles;

namespace Paas.Core.Tests.Staging;

/// <summary>The run contract a Dockerfile image is checked against: who it runs as, which port, which command.</summary>
public sealed class DockerfileStagerTests
{
    [Theory]
    [InlineData("root", true)]
    [InlineData("0", true)]
    [InlineData("0:0", true)]
    [InlineData("root:staff", true)]
    [InlineData("", false)]
    [InlineData("1000:1000", false)]
    [InlineData("app", false)]
    [InlineData("rooter", false)]
    public void IsRoot_IsTheUserNotTheGroup(string user, bool root) => Assert.Equal(root, DockerfileStager.IsRoot(user));

    [Fact]
    public void ExposedPort_OneTcpPortDecides_NoneOrSeveralMeanPort()
    {
        Assert.Equal(8000, DockerfileStager.ExposedPort(new Dictionary<string, EmptyStruct> { ["8000/tcp"] = default }));
        Assert.Equal(8000, DockerfileStager.ExposedPort(new Dictionary<string, EmptyStruct> { ["8000/tcp"] = default, ["53/udp"] = default }));
        Assert.Equal(5000, DockerfileStager.ExposedPort(null));
        Assert.Equal(5000, DockerfileStager.ExposedPort(new Dictionary<string, EmptyStruct> { ["80/tcp"] = default, ["443/tcp"] = default }));
    }

    [Fact]
    public void Describe_ReadsEntrypointThenCmd() =>
        Assert.Equal("/bin/sh -c \"exec python3 app.py\"", DockerfileStager.Describe(["/bin/sh", "-c"], ["exec python3 app.py"]));
}
