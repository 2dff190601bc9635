using System.CommandLine;

namespace Embeddings.Cli;

/// <summary>Entry point of the `embeddings` command.</summary>
public static class Program
{
    /// <summary>Runs the CLI on the process's console.</summary>
    public static Task<int> Main(string[] args) => RunAsync(args, CliConsole.System, CancellationToken.None);

    /// <summary>Runs one command line writing to <paramref name="console"/> (tests pass their own, so runs can be parallel).</summary>
    internal static Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken) =>
        BuildRoot(console).Parse(args).InvokeAsync(new InvocationConfiguration { Output = console.Out, Error = console.Error }, cancellationToken);

    /// <summary>Builds the command tree; every command writes through <paramref name="console"/>.</summary>
    internal static RootCommand BuildRoot(CliConsole console)
    {
        var root = new RootCommand("Embeddings: sentence embeddings, similar-paper search and topic digests for paper abstracts, offline.");
        root.Add(Commands.EmbedCommand.Create(console));
        root.Add(Commands.ModelCommand.Create(console));
        root.Add(Commands.IngestCommand.Create(console));
        root.Add(Commands.MergeCommand.Create(console));
        root.Add(Commands.ExportCommand.Create(console));
        root.Add(Commands.IndexCommand.Create(console));
        root.Add(Commands.SimilarCommand.Create(console));
        root.Add(Commands.SyncCommand.Create(console));
        root.Add(Commands.EvalCommand.Create(console));
        root.Add(Commands.TopicsCommand.Create(console));
        root.Add(Commands.DigestCommand.Create(console));
        root.Add(Commands.ServeCommand.Create(console));
        return root;
    }
}
