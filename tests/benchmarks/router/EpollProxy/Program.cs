// A C# reverse proxy that owns its event loop, as a benchmark peer for the router: one thread per core,
// each with its own epoll set and its own SO_REUSEPORT listener (nginx's worker model), non-blocking
// sockets driven by recv/send/epoll_wait straight from libc. No Kestrel, no .NET socket engine, no
// async state machines, no thread pool. Like dotnet-min it does no routing and no header work: one fixed
// request to one backend over pooled keep-alive connections, the body copied back. The gap between the
// two is what Kestrel and the .NET socket layer cost; the gap to nginx shows whether C# itself can keep
// up with it. Plain bodiless requests, one at a time per connection (what wrk sends); nothing else.
//   dotnet EpollProxy.dll <listen port> <backend port> <host> [threads]
using System.Text;

var listenPort = int.Parse(args[0]);
var backendPort = int.Parse(args[1]);
var requestHead = Encoding.ASCII.GetBytes($"GET / HTTP/1.1\r\nHost: {args[2]}\r\n\r\n");
var threadCount = args.Length > 3 ? int.Parse(args[3]) : Environment.ProcessorCount;
var threads = Enumerable.Range(0, threadCount)
    .Select(_ => new Thread(new EventLoop(listenPort, backendPort, requestHead).Run))
    .ToList();
threads.ForEach(thread => thread.Start());
threads.ForEach(thread => thread.Join());
