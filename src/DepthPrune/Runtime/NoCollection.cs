using System.Runtime;

namespace DepthPrune.Runtime;

/// <summary>Runs libtorch work with the garbage collector held off. TorchSharp passes the native
/// handles of call arguments without keeping their managed objects alive, and makes some of them
/// itself (`add(tensor)` passes an implicit Scalar 1): a collection during the call may finalize
/// one and free it while libtorch reads it ("Expected false to be true" from a Scalar's type tag,
/// or garbage from a freed temporary). The fold and the ONNX export (thousands of such calls,
/// little managed memory, run in a loop by the latency objective) hold the collector off for their
/// duration, which removes the window there (docs/RELIABILITY.md). Nested, the inner call runs plainly.</summary>
public static class NoCollection
{
    /// <summary>Managed allocation the work may make before the collector runs anyway.</summary>
    public const long Budget = 200L << 20;

    public static T Run<T>(Func<T> work)
    {
        bool held;
        try { held = GC.TryStartNoGCRegion(Budget); }
        catch (Exception e) when (e is ArgumentOutOfRangeException or InvalidOperationException) { held = false; }
        try { return work(); }
        finally
        {
            // The region ends by itself when the work allocates past the budget (or another thread collects).
            if (held && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
                try { GC.EndNoGCRegion(); } catch (InvalidOperationException) { }
        }
    }
}
