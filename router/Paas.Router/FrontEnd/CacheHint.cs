using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Paas.Router.FrontEnd;

/// <summary>Asks the CPU to start loading an object it will soon read, so the wait overlaps other work.</summary>
internal static unsafe class CacheHint
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prefetch(object? target)
    {
        // Only a hint: if the GC moves the object before it is read, the read is merely slower.
        if (Sse.IsSupported && target is not null)
        {
            Sse.Prefetch0(*(void**)Unsafe.AsPointer(ref target));
        }
    }
}
