using System.CommandLine;
using System.CommandLine.Invocation;

namespace Embeddings.Cli;

/// <summary>Entry point of the `embeddings` command.</summary>
public static class Program
{
    /// <summary>Runs the CLI on the process's console.</summary>
    public static Task<int> Main(string[] args)
    {
        // A failure on a thread of its own would otherwise end the process with a stack trace: one line instead.
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            if (e.ExceptionObject is Exception exception)
            {
                CliRunner.Report(CliConsole.System, exception);
                CliConsole.System.Error.Flush();
                Environment.Exit(CliRunner.Failed);
            }
        };
        return RunAsync(args, CliConsole.System, CancellationToken.None);
    }

    /// <summary>Runs one command line writing to <paramref name="console"/> (tests pass their own, so runs can be parallel).</summary>
    internal static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken)
    {
        try
        {
            ParseResult parse = BuildRoot(console).Parse(args);
            if (parse.Action is ParseErrorAction && parse.Errors.Count > 0)
            {
                // One line and exit 2, not the whole help: the first problem and where to read more.
                string command = string.Join(' ', CommandPath(parse.CommandResult));
                // An unknown word explains a missing command better than "Required command was not provided".
                string first = parse.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal))?.Message ?? parse.Errors[0].Message;
                string oneLine = string.Join(' ', first.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                console.Report($"{oneLine.TrimEnd('.')}; see `{command} --help`");
                return CliRunner.BadInput;
            }
            return await parse.InvokeAsync(new InvocationConfiguration
            {
                Output = console.Out,
                Error = console.Error,
                EnableDefaultExceptionHandler = false,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            console.Report("cancelled");
            return CliRunner.Cancelled;
        }
        catch (Exception e)
        {
            return CliRunner.Report(console, e);
        }
    }

    private static IEnumerable<string> CommandPath(System.CommandLine.Parsing.SymbolResult? result)
    {
        var names = new Stack<string>();
        for (; result is not null; result = result.Parent)
        {
            if (result is System.CommandLine.Parsing.CommandResult command)
            {
                names.Push(command.Parent is null ? "embeddings" : command.Command.Name);
            }
        }
        return names;
    }

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
        root.Add(Commands.ShowCommand.Create(console));
        root.Add(Commands.ListCommand.Create(console));
        root.Add(Commands.EvalCommand.Create(console));
        root.Add(Commands.TopicsCommand.Create(console));
        root.Add(Commands.DigestCommand.Create(console));
        root.Add(Commands.ServeCommand.Create(console));
        return root;
    }
}
