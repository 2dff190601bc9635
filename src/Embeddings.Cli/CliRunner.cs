namespace Embeddings.Cli;

/// <summary>
/// Runs a command body and turns the engine's typed errors into one clear line on stderr and a non-zero exit code,
/// never a stack trace. Exit codes: 0 ok, 1 failed, 2 bad usage or input, 130 cancelled.
/// </summary>
internal static class CliRunner
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int BadInput = 2;
    public const int Cancelled = 130;

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
        catch (Exception e) when (e is InputFormatException or InvalidRequestException or UsageException)
        {
            console.Report(e.Message);
            return BadInput;
        }
        catch (EmbeddingsException e)
        {
            console.Report(e.Message);
            return Failed;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            console.Report(e.Message);
            return BadInput;
        }
    }
}

/// <summary>A command line that parses but asks for something impossible (two exclusive options, a bad value).</summary>
internal sealed class UsageException(string message) : Exception(message);
