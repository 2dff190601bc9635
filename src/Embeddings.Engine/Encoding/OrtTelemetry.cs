using System.Runtime.InteropServices;

namespace Embeddings.Encoding;

/// <summary>
/// Turns off ONNX Runtime's own telemetry before the runtime starts. Since 1.29 the Linux builds carry a telemetry
/// client that, while the runtime environment is created, reads <c>/proc/self/cmdline</c> and scrubs it in a way
/// whose stack use grows with its length: a command line of about 30 KB (<c>ingest dumps/*.txt</c> over 800 files, a
/// 30,000-character <c>--text</c>) overflows the main thread's stack and the process dies natively (rc 134, "Internal
/// CLR error" in environment creation). The same client writes <c>/tmp/mat-debug-PID.log</c> on every run and would
/// try to upload; this package is offline. <c>ORT_DISABLE_TELEMETRY=1</c> is the runtime's documented opt-out, read
/// from the native environment when the runtime initialises, so it is set with the C library's <c>setenv</c>
/// (.NET's <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not reach native code on Linux).
/// A value the user set already is kept.
/// </summary>
internal static partial class OrtTelemetry
{
    public const string Variable = "ORT_DISABLE_TELEMETRY";

    private static int _done;

    /// <summary>Sets <c>ORT_DISABLE_TELEMETRY=1</c> in the native environment unless it is set; call before ONNX Runtime loads.</summary>
    public static void DisableBeforeLoad()
    {
        if (Interlocked.Exchange(ref _done, 1) != 0 || OperatingSystem.IsWindows())
        {
            return;
        }
        try
        {
            SetEnv(Variable, "1", overwrite: 0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // A C library without setenv cannot host the POSIX telemetry client either.
        }
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
