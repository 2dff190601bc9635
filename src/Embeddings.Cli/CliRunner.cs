namespace Embeddings.Cli;

/// <summary>
/// Runs a command body and turns every failure into one clear line on stderr and an exit code, never a stack trace.
/// Exit codes: 0 ok; 2 a user error (bad usage, a bad input or request: the line says what to change); 1 an
/// environment error (the machine, the store's files, the model: the line says what failed); 130 cancelled.
/// </summary>
internal static class CliRunner
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int BadInput = 2;
    public const int Cancelled = 130;

    /// <summary>Set to 1 to print the stack trace of an internal error (a bug) after its one-line message.</summary>
    public const string DebugVariable = "EMBEDDINGS_DEBUG";

    public static async Task<int> RunAsync(CliConsole console, Func<CancellationToken, Task<int>> body, CancellationToken cancellationToken)
    {
        try
        {
            return await body(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            console.Report("cancelled");
            return Cancelled;
        }
        catch (Exception e)
        {
            return Report(console, e);
        }
    }

    /// <summary>Writes the one line for <paramref name="e"/> and returns its exit code.</summary>
    public static int Report(CliConsole console, Exception e)
    {
        (int code, string message) = Describe(e);
        console.Report(message);
        if (code == Failed && IsInternal(e) && Environment.GetEnvironmentVariable(DebugVariable) == "1")
        {
            console.Error.WriteLine(e.ToString());
        }
        return code;
    }

    /// <summary>
    /// The exit code and the one-line message of a failure. Runtime failures (a missing path, a full disk, a bad
    /// argument) are first turned into the library's typed exceptions by <see cref="LibraryErrors.Translate"/>, the
    /// one rule for them, so a failure in the CLI's own work reads as the same failure inside the library.
    /// </summary>
    internal static (int Code, string Message) Describe(Exception e)
    {
        if (e is AggregateException { InnerExceptions.Count: 1 } aggregate)
        {
            return Describe(aggregate.InnerExceptions[0]);
        }
        if (LibraryErrors.Translate(e) is { } typed)
        {
            e = typed;
        }
        string message = LibraryErrors.OneLine(e.Message);
        return e switch
        {
            UsageException or InputFormatException or InvalidRequestException or PaperNotFoundException
                or ModelMismatchException or DimensionsNotSupportedException => (BadInput, message),
            EmbeddingsException => (Failed, message),
            OutOfMemoryException => (Failed, "out of memory: use smaller batches (--batch) or fewer threads, or a machine with more memory"),
            OperationCanceledException => (Failed, "the operation was cancelled (timed out?)"),
            _ => (Failed, $"internal error ({e.GetType().Name}: {message}); please report it, with {DebugVariable}=1 for the stack trace"),
        };
    }

    private static bool IsInternal(Exception e) => Describe(e).Message.StartsWith("internal error", StringComparison.Ordinal);
}

/// <summary>A command line that parses but asks for something impossible (two exclusive options, a bad value).</summary>
internal sealed class UsageException(string message) : Exception(message);
