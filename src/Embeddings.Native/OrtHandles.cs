using System.Runtime.InteropServices;

namespace Embeddings.Native;

/// <summary>
/// Base of every native ORT object we own: released exactly once through its <c>Release*</c> slot, by
/// <see cref="SafeHandle.Dispose()"/> or, if the owner forgot, by the finalizer. The runtime library is never
/// unloaded, so a late finalizer still finds the function it calls.
/// </summary>
internal abstract class OrtHandle : SafeHandle
{
    protected OrtHandle(NativeApi api) : base(0, ownsHandle: true)
    {
        Api = api;
    }

    protected NativeApi Api { get; }

    public override bool IsInvalid => handle == 0;

    /// <summary>Takes ownership of a pointer ORT just returned.</summary>
    internal void Attach(nint native) => SetHandle(native);
}

internal sealed class OrtEnvHandle(NativeApi api) : OrtHandle(api)
{
    protected override bool ReleaseHandle()
    {
        Api.ReleaseEnv(handle);
        return true;
    }
}

internal sealed class OrtMemoryInfoHandle(NativeApi api) : OrtHandle(api)
{
    protected override bool ReleaseHandle()
    {
        Api.ReleaseMemoryInfo(handle);
        return true;
    }
}

internal sealed class OrtSessionOptionsHandle(NativeApi api) : OrtHandle(api)
{
    protected override bool ReleaseHandle()
    {
        Api.ReleaseSessionOptions(handle);
        return true;
    }
}

internal sealed class OrtCudaProviderOptionsHandle(NativeApi api) : OrtHandle(api)
{
    protected override bool ReleaseHandle()
    {
        Api.ReleaseCudaProviderOptions(handle);
        return true;
    }
}

internal sealed class OrtSessionHandle(NativeApi api) : OrtHandle(api)
{
    protected override bool ReleaseHandle()
    {
        Api.ReleaseSession(handle);
        return true;
    }
}

internal sealed class OrtTypeInfoHandle(NativeApi api) : OrtHandle(api)
{
    protected override bool ReleaseHandle()
    {
        Api.ReleaseTypeInfo(handle);
        return true;
    }
}

internal sealed class OrtValueHandle(NativeApi api) : OrtHandle(api)
{
    protected override bool ReleaseHandle()
    {
        Api.ReleaseValue(handle);
        return true;
    }
}

internal sealed class OrtRunOptionsHandle(NativeApi api) : OrtHandle(api)
{
    /// <summary>Asks a run using these options to stop (RunOptionsSetTerminate); safe from any thread.</summary>
    internal void Terminate() => Api.SetTerminate(handle);

    protected override bool ReleaseHandle()
    {
        Api.ReleaseRunOptions(handle);
        return true;
    }
}
