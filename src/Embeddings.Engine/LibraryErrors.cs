using System.Runtime.CompilerServices;

namespace Embeddings;

/// <summary>
/// The library boundary's error rule: every call of the public API fails with an <see cref="EmbeddingsException"/>
/// whose message says what to do. The lower-level exceptions the runtime raises for the machine's reasons (a full disk,
/// a permission, a missing path) and argument checks that slipped past validation are translated here, in one place,
/// instead of escaping as <see cref="IOException"/>, <see cref="ArgumentException"/> and the like. Hosts use
/// <see cref="Translate"/> too, for the failures of their own work (writing an output file), so a host's error
/// line and exit code or status come from the same rule.
/// </summary>
public static class LibraryErrors
{
    // errno values (Linux) and HRESULTs (Windows) of a full device.
    private const int EnospcLinux = 28;
    private const int EdquotLinux = 122;
    private const int DiskFullWindows = unchecked((int)0x80070070);
    private const int HandleDiskFullWindows = unchecked((int)0x80070027);

    /// <summary>Whether <paramref name="e"/> (or its cause) is "no space left on the device" (or a quota).</summary>
    internal static bool IsDiskFull(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is IOException && (e.HResult is EnospcLinux or EdquotLinux or DiskFullWindows or HandleDiskFullWindows
                || e.Message.Contains("No space left on device", StringComparison.Ordinal)))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// The typed exception <paramref name="e"/> stands for, or null when it needs none: it is already an
    /// <see cref="EmbeddingsException"/>, a cancellation, or a failure the rule does not know (a bug).
    /// </summary>
    public static EmbeddingsException? Translate(Exception e) => e switch
    {
        EmbeddingsException or OperationCanceledException => null,
        AggregateException { InnerExceptions.Count: 1 } aggregate => Translate(aggregate.InnerExceptions[0]) ?? aggregate.InnerExceptions[0] as EmbeddingsException,
        _ when IsDiskFull(e) => new StorageException(
            $"no space left on the device ({Cause(e)}): free some space and run again; what was committed before stays readable, and an ingest resumes where it stopped.", e),
        FileNotFoundException or DirectoryNotFoundException => new InvalidRequestException($"{Cause(e)}: check the path.", e),
        UnauthorizedAccessException => new StorageException($"permission denied ({Cause(e)}): check the owner and mode of the file or folder, or use another path.", e),
        PathTooLongException => new InvalidRequestException($"{Cause(e)}: use a shorter path.", e),
        IOException => new StorageException($"I/O error ({Cause(e)}): check the device and run again; what was committed before stays readable.", e),
        ArgumentException => new InvalidRequestException(Quote(e.Message.Split(" (Parameter", 2)[0]), e),
        _ => null,
    };

    /// <summary>
    /// Runs a library call, translating its failures by <see cref="Translate"/>, except those <paramref name="callersOwn"/>
    /// says came from something the caller handed in (its stream), which reach the caller as they were thrown.
    /// </summary>
    internal static async Task<T> Guard<T>(Func<Task<T>> call, Func<Exception, bool>? callersOwn = null)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception e) when (callersOwn?.Invoke(e) != true && Translate(e) is { } typed)
        {
            throw typed;
        }
    }

    /// <summary>Runs a library call, translating its failures by <see cref="Translate"/>.</summary>
    internal static async Task Guard(Func<Task> call)
    {
        try
        {
            await call().ConfigureAwait(false);
        }
        catch (Exception e) when (Translate(e) is { } typed)
        {
            throw typed;
        }
    }

    /// <summary>Runs a synchronous library call, translating its failures by <see cref="Translate"/>.</summary>
    internal static T Guard<T>(Func<T> call)
    {
        try
        {
            return call();
        }
        catch (Exception e) when (Translate(e) is { } typed)
        {
            throw typed;
        }
    }

    /// <summary>Streams a library sequence, translating the failures of each step by <see cref="Translate"/>.</summary>
    internal static async IAsyncEnumerable<T> Guard<T>(IAsyncEnumerable<T> items, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        IAsyncEnumerator<T> enumerator = Guard(() => items.GetAsyncEnumerator(cancellationToken));
        try
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await enumerator.MoveNextAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (Translate(e) is { } typed)
                {
                    throw typed;
                }
                if (!more)
                {
                    yield break;
                }
                yield return enumerator.Current;
            }
        }
        finally
        {
            await enumerator.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>A message as one line (runtime messages sometimes span several).</summary>
    public static string OneLine(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    /// <summary>A runtime message as one line without its closing period, to quote inside one of ours.</summary>
    internal static string Quote(string message) => OneLine(message).TrimEnd('.');

    private static string Cause(Exception e) => Quote(e.Message);
}
