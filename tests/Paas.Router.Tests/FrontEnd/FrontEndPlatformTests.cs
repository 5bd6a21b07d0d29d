using System.Runtime.InteropServices;
using Paas.Core.Configuration;
using Paas.Router.FrontEnd;

namespace Paas.Router.Tests.FrontEnd;

/// <summary>The event loop runs only where its view of the kernel's structs is right; elsewhere Kestrel serves.</summary>
public sealed class FrontEndPlatformTests
{
    [Fact]
    public void WhereTheEventLoopRuns_ItsEpollEventIsTheKernelsTwelveBytes()
    {
        // struct epoll_event is __attribute__((packed)) on x86-64: a 4-byte mask then 8 bytes of data at offset 4.
        if (!RouterSettings.EventLoopSupported)
            return;
        Assert.Equal(12, Marshal.SizeOf<Libc.EpollEvent>());
        Assert.Equal(4, (int)Marshal.OffsetOf<Libc.EpollEvent>(nameof(Libc.EpollEvent.Data)));
    }

    [Fact]
    public void ThisMachine_IsOneWhereTheEventLoopRuns()
    {
        // CI runs on Linux x86-64: if this fails there, every event-loop test below silently tested Kestrel.
        Assert.Equal(OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64, RouterSettings.EventLoopSupported);
        Assert.True(RouterSettings.EventLoopSupported, "the test machine is expected to be Linux x86-64");
    }

    [Fact]
    public void WithoutSupport_TheDefaultIsKestrel_AndAskingForTheLoopIsOneSentence()
    {
        Assert.Equal(FrontEndKind.Kestrel, RouterSettings.FrontEndChoice(null, eventLoopSupported: false));
        Assert.Equal(FrontEndKind.EventLoop, RouterSettings.FrontEndChoice(null, eventLoopSupported: true));
        var refused = Assert.Throws<SettingException>(() => RouterSettings.FrontEndChoice("event-loop", eventLoopSupported: false));
        Assert.Contains("x86-64", refused.Message);
    }
}
