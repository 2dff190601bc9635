using System.Runtime.CompilerServices;

namespace Embeddings;

/// <summary>
/// The library boundary's error rule: every call of the public API fails with an <see cref="EmbeddingsException"/>
/// whose message says what to do. The lower-level exceptions the runtime raises for the machine's reasons (a full disk,
/// a permission, a missing path) and argument checks that slipped past validation are translated here, in one place,
/// instead of escaping as <see cref="IOException"/>, <see cref="ArgumentException"/> and the like.
/// </summary>
internal static class LibraryErrors
{
    // errno values (Linux) and HRESULTs (Windows) of a full device.
    private const int EnospcLinux = 28;
    private const int EdquotLinux = 122;
    private const int DiskFullWindows = unchecked((int)0x80070070);
    private const int HandleDiskFullWindows = unchecked((int)0x80070027);

    /// <summary>Whether <paramref name="e"/> (or its cause) is "no space left on the device" (or a quota).</summary>
    public static bool IsDiskFull(Exception? e)
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
    /// <see cref="EmbeddingsException"/>, or a cancellation.
    /// </summary>
    public static EmbeddingsException? Translate(Exception e) => e switch
    {
        EmbeddingsException or OperationCanceledException => null,
        AggregateException { InnerExceptions.Count: 1 } aggregate => Translate(aggregate.InnerExceptions[0]) ?? aggregate.InnerExceptions[0] as EmbeddingsException,
        _ when IsDiskFull(e) => new StorageException(
            $"no space left on the device ({OneLine(e.Message)}): free some space and run again; what was committed before stays readable, and an ingest resumes where it stopped.", e),
        FileNotFoundException or DirectoryNotFoundException => new InvalidRequestException($"{OneLine(e.Message)}: check the path.", e),
        UnauthorizedAccessException => new StorageException($"permission denied ({OneLine(e.Message)}): check the owner and mode of the file or folder, or use another path.", e),
        PathTooLongException => new InvalidRequestException($"{OneLine(e.Message)}: use a shorter path.", e),
        IOException => new StorageException($"I/O error ({OneLine(e.Message)}): check the device and run again; what was committed before stays readable.", e),
        ArgumentException => new InvalidRequestException(OneLine(e.Message.Split(" (Parameter", 2)[0]), e),
        _ => null,
    };

    /// <summary>
    /// Runs a library call, translating its failures by <see cref="Translate"/>, except those <paramref name="callersOwn"/>
    /// says came from something the caller handed in (its stream), which reach the caller as they were thrown.
    /// </summary>
    public static async Task<T> Guard<T>(Func<Task<T>> call, Func<Exception, bool>? callersOwn = null)
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
    public static async Task Guard(Func<Task> call)
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
    public static T Guard<T>(Func<T> call)
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
    public static async IAsyncEnumerable<T> Guard<T>(IAsyncEnumerable<T> items, [EnumeratorCancellation] CancellationToken cancellationToken = default)
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
    public static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).TrimEnd('.');
}
