using System.Diagnostics;
using Embeddings.Store;

namespace Embeddings.Tests.Support;

/// <summary>
/// The real CLI in a child process (`dotnet embeddings.dll ...`), optionally with a crash point (EMBEDDINGS_CRASH_AT), for
/// tests that kill it or need a process of its own. EMBEDDINGS_MODEL is cleared, so the model is what the arguments say.
/// In-process runs use <see cref="CliHarness"/>.
/// </summary>
internal static class CliProcess
{
    public static (int Exit, string Out, string Err) Run(string? crashAt, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = TestPaths.RepoRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "embeddings.dll"));
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }
        start.Environment.Remove(CrashPoints.EnvironmentVariable);
        start.Environment.Remove("EMBEDDINGS_MODEL");
        if (crashAt is not null)
        {
            start.Environment[CrashPoints.EnvironmentVariable] = crashAt;
        }
        using Process p = Process.Start(start)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("embeddings did not finish: " + string.Join(' ', args));
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
