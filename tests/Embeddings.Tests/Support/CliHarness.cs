using Embeddings.Cli;

namespace Embeddings.Tests.Support;

/// <summary>Runs the CLI in-process with its own captured stdout and stderr (so CLI tests run in parallel).</summary>
internal static class CliHarness
{
    public static Task<(int Exit, string Out, string Err)> RunAsync(params string[] args) => RunAsync(terminalWidth: null, args);

    /// <summary>Runs as if stdout were a terminal <paramref name="terminalWidth"/> columns wide (null: a pipe).</summary>
    public static async Task<(int Exit, string Out, string Err)> RunAsync(int? terminalWidth, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var console = new CliConsole(stdout, stderr, outputIsTerminal: terminalWidth is not null, width: terminalWidth ?? 100);
        int exit = await Program.RunAsync(args, console, CancellationToken.None);
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
