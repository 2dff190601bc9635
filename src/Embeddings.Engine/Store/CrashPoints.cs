using System.Diagnostics;
using System.Globalization;

namespace Embeddings.Store;

/// <summary>
/// Crash injection for the crash-safety tests: with <c>EMBEDDINGS_CRASH_AT=&lt;point&gt;:&lt;n&gt;</c> the process kills
/// itself with SIGKILL the n-th time it reaches the named commit point, exactly as a power cut or OOM kill would
/// stop it (no finally blocks, no flushing). Points, in commit order: <c>vectors-written</c>, <c>vectors-synced</c>,
/// <c>segment-written</c>, <c>segment-synced</c>, <c>manifest-before-rename</c>, <c>manifest-after-rename</c>.
/// Without the variable every call is a cheap no-op.
/// </summary>
internal static class CrashPoints
{
    public const string EnvironmentVariable = "EMBEDDINGS_CRASH_AT";

    /// <summary>
    /// <c>EMBEDDINGS_PAUSE_AT=&lt;point&gt;[,&lt;point&gt;...]</c>: at each hit of those points the process writes
    /// <c>embeddings: paused at POINT:N</c> on stderr and waits for a line on stdin, so a test can read the store in that
    /// exact window (uncommitted vector rows on disk, say) without sleeping or timing anything.
    /// </summary>
    public const string PauseVariable = "EMBEDDINGS_PAUSE_AT";

    private static readonly (string Point, int Hit)? Target = Parse(Environment.GetEnvironmentVariable(EnvironmentVariable));
    private static readonly string[] PausePoints = (Environment.GetEnvironmentVariable(PauseVariable) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries);
    private static int _hits;
    private static int _pauses;

    public static void Hit(string point)
    {
        if (PausePoints.Length > 0 && Array.IndexOf(PausePoints, point) >= 0)
        {
            Console.Error.WriteLine($"embeddings: paused at {point}:{Interlocked.Increment(ref _pauses)}");
            Console.Error.Flush();
            Console.In.ReadLine();
        }
        if (Target is not { } target || target.Point != point)
        {
            return;
        }
        if (Interlocked.Increment(ref _hits) == target.Hit)
        {
            Console.Error.WriteLine($"embeddings: crash injected at {point}:{target.Hit}");
            Console.Error.Flush();
            Process.GetCurrentProcess().Kill(); // SIGKILL on Unix
            Thread.Sleep(Timeout.Infinite);
        }
    }

    private static (string, int)? Parse(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }
        int colon = value.LastIndexOf(':');
        return colon > 0 && int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
            ? (value[..colon], n)
            : (value, 1);
    }
}
