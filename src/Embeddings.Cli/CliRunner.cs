namespace Embeddings.Cli;

/// <summary>
/// Runs a command body and turns the engine's typed errors into one clear line on stderr and a
/// non-zero exit code, instead of a stack trace. Exit codes: 0 ok, 1 failed, 2 bad usage or input, 130 cancelled.
/// </summary>
internal static class CliRunner
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int BadInput = 2;
    public const int Cancelled = 130;

    public static async Task<int> RunAsync(Func<CancellationToken, Task<int>> body, CancellationToken cancellationToken)
    {
        try
        {
            return await body(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Console.Error.WriteLine("embeddings: cancelled");
            return Cancelled;
        }
        catch (InputFormatException e)
        {
            Console.Error.WriteLine("embeddings: " + e.Message);
            return BadInput;
        }
        catch (EmbeddingsException e)
        {
            Console.Error.WriteLine("embeddings: " + e.Message);
            return Failed;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine("embeddings: " + e.Message);
            return BadInput;
        }
    }
}
