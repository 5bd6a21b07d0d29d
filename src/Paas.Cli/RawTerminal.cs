using System.Runtime.InteropServices;

namespace Paas.Cli;

/// <summary>
/// The user's terminal in raw mode for an interactive run: every key (Ctrl-C, Ctrl-D, arrows) goes to the remote TTY
/// as bytes, nothing is echoed locally (the remote TTY echoes), and the saved settings come back on Dispose, even
/// when the session fails. Linux only (the termios layout is glibc's); elsewhere the terminal is left as it is.
/// </summary>
public sealed class RawTerminal : IDisposable
{
    private const int StdinFd = 0;
    private const int StdoutFd = 1;
    private const int TcsaNow = 0;
    private const ulong TiocGWinSz = 0x5413;
    // sizeof(struct termios) is 60 on glibc; room to spare.
    private readonly byte[] _saved = new byte[256];
    private readonly bool _raw;

    private RawTerminal(bool raw, byte[] saved)
    {
        _raw = raw;
        _saved = saved;
    }

    public static RawTerminal Enter()
    {
        var saved = new byte[256];
        if (!OperatingSystem.IsLinux() || tcgetattr(StdinFd, saved) != 0)
            return new RawTerminal(false, saved);
        var raw = (byte[])saved.Clone();
        cfmakeraw(raw);
        return new RawTerminal(tcsetattr(StdinFd, TcsaNow, raw) == 0, saved);
    }

    /// <summary>The terminal's columns and rows now (0, 0 when it cannot say).</summary>
    public static (int Columns, int Rows) Size()
    {
        if (OperatingSystem.IsLinux())
        {
            foreach (var fd in new[] { StdoutFd, StdinFd })
            {
                var size = new WinSize();
                if (ioctl(fd, TiocGWinSz, ref size) == 0 && size.Columns > 0)
                    return (size.Columns, size.Rows);
            }
        }
        try
        {
            return (Console.WindowWidth, Console.WindowHeight);
        }
        catch (Exception e) when (e is IOException or PlatformNotSupportedException)
        {
            return (0, 0);
        }
    }

    public void Dispose()
    {
        if (_raw)
            tcsetattr(StdinFd, TcsaNow, _saved);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct WinSize
    {
        public ushort Rows;
        public ushort Columns;
        public ushort XPixels;
        public ushort YPixels;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int tcgetattr(int fd, byte[] termios);

    [DllImport("libc", SetLastError = true)]
    private static extern int tcsetattr(int fd, int actions, byte[] termios);

    [DllImport("libc")]
    private static extern void cfmakeraw(byte[] termios);

    [DllImport("libc", SetLastError = true)]
    private static extern int ioctl(int fd, ulong request, ref WinSize size);
}
