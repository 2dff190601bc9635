using System.Diagnostics;
using Embeddings.Store;

namespace Embeddings.Tests.Support;

/// <summary>
/// The real CLI in a child process (`dotnet embeddings.dll ...`), optionally with a crash point (EMBEDDINGS_CRASH_AT) or
/// pause points (EMBEDDINGS_PAUSE_AT), for tests that kill it, hold it mid-commit or need a process of its own. EMBEDDINGS_MODEL is cleared, so the model is what the arguments say.
/// In-process runs use <see cref="CliHarness"/>.
/// </summary>
internal static class CliProcess
{
    /// <summary>Runs the CLI to the end (stdin closed) and returns its exit code, stdout and stderr.</summary>
    public static (int Exit, string Out, string Err) Run(string? crashAt, params string[] args)
    {
        using Process p = Start(pauseAt: null, crashAt, args);
        p.StandardInput.Close();
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("embeddings did not finish: " + string.Join(' ', args));
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>
    /// Starts the CLI with its stdin, stdout and stderr redirected, for a test that talks to it while it runs: held at
    /// the pause points <paramref name="pauseAt"/> (EMBEDDINGS_PAUSE_AT: it waits there for a line on stdin) or killed
    /// at a crash point <paramref name="crashAt"/>.
    /// </summary>
    public static Process Start(string? pauseAt, string? crashAt, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = TestPaths.RepoRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "embeddings.dll"));
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }
        start.Environment.Remove(CrashPoints.EnvironmentVariable);
        start.Environment.Remove(CrashPoints.PauseVariable);
        start.Environment.Remove("EMBEDDINGS_MODEL");
        if (pauseAt is not null)
        {
            start.Environment[CrashPoints.PauseVariable] = pauseAt;
        }
        if (crashAt is not null)
        {
            start.Environment[CrashPoints.EnvironmentVariable] = crashAt;
        }
        return Process.Start(start)!;
    }
}
