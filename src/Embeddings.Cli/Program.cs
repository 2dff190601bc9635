using System.CommandLine;

namespace Embeddings.Cli;

/// <summary>Entry point of the `embeddings` command.</summary>
public static class Program
{
    /// <summary>Builds the command tree; tests call it to run commands in-process.</summary>
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("Embeddings: sentence embeddings, similar-paper search and topic digests for paper abstracts, offline.");
        root.Add(Commands.EmbedCommand.Create());
        root.Add(Commands.ModelCommand.Create());
        root.Add(Commands.IngestCommand.Create());
        root.Add(Commands.MergeCommand.Create());
        root.Add(Commands.ExportCommand.Create());
        root.Add(Commands.IndexCommand.Create());
        root.Add(Commands.SimilarCommand.Create());
        root.Add(Commands.SyncCommand.Create());
        root.Add(Commands.EvalCommand.Create());
        root.Add(Commands.TopicsCommand.Create());
        root.Add(Commands.DigestCommand.Create());
        return root;
    }

    /// <summary>Runs the CLI.</summary>
    public static async Task<int> Main(string[] args)
    {
        return await BuildRoot().Parse(args).InvokeAsync().ConfigureAwait(false);
    }
}
