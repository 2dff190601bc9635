using Embeddings.Cli;

namespace Embeddings.Tests.Support;

/// <summary>Runs the CLI in-process with its own captured stdout and stderr (so CLI tests run in parallel).</summary>
internal static class CliHarness
{
    public static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int exit = await Program.RunAsync(args, new CliConsole(stdout, stderr), CancellationToken.None);
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
