using System.Diagnostics.CodeAnalysis;

namespace Embeddings;

/// <summary>Base type of every error the engine raises on purpose; the message says how to fix it.</summary>
public class EmbeddingsException : Exception
{
    /// <summary>Creates the exception with a message that explains the fix.</summary>
    public EmbeddingsException(string message) : base(message) { }

    /// <summary>Creates the exception wrapping the lower-level cause.</summary>
    public EmbeddingsException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A model folder is missing, incomplete, corrupt, or not what its manifest says.</summary>
public sealed class ModelLoadException : EmbeddingsException
{
    /// <inheritdoc cref="EmbeddingsException(string)"/>
    public ModelLoadException(string message) : base(message) { }

    /// <inheritdoc cref="EmbeddingsException(string, Exception)"/>
    public ModelLoadException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// An input file or one of its records cannot be used (missing, a directory, binary, truncated, malformed); names the
/// file and, for a record, the line and the field.
/// </summary>
public sealed class InputFormatException : EmbeddingsException
{
    /// <summary>Creates the error for one record.</summary>
    public InputFormatException(string file, long line, string? field, string problem)
        : base(Describe(file, line, field, problem))
    {
        File = file;
        Line = line;
        Field = field;
        Problem = problem;
    }

    /// <summary>The input file.</summary>
    public string File { get; }

    /// <summary>The 1-based line where the bad record starts; 0 when the problem is the whole file.</summary>
    public long Line { get; }

    /// <summary>The field at fault, when one is.</summary>
    public string? Field { get; }

    /// <summary>What is wrong, without the location.</summary>
    public string Problem { get; }

    private static string Describe(string file, long line, string? field, string problem)
    {
        string where = line > 0 ? $"{file}:{line}" : file;
        return field is null ? $"{where}: {problem}" : $"{where}: field '{field}': {problem}";
    }
}

/// <summary>
/// A persisted artefact (store, index, embedding file) has a bad magic, an unknown format version,
/// a checksum mismatch, or belongs to another model.
/// </summary>
public sealed class DataFormatException : EmbeddingsException
{
    /// <summary>Creates the error for one file.</summary>
    public DataFormatException(string path, string problem) : base($"{path}: {problem}")
    {
        Path = path;
    }

    /// <summary>The file at fault.</summary>
    public string Path { get; }
}

/// <summary>
/// The machine refused a read or a write (no space left on the device, permission denied, an I/O error). What was
/// committed before stays readable; the message names the file and says what to do.
/// </summary>
public sealed class StorageException : EmbeddingsException
{
    /// <summary>Wraps the operating system's error; the message says what to do.</summary>
    public StorageException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Whether the device is full (free space and run again).</summary>
    public bool IsDiskFull => LibraryErrors.IsDiskFull(InnerException);
}

/// <summary>Another process is writing to the store.</summary>
public sealed class StoreLockedException : EmbeddingsException
{
    /// <summary>Creates the error naming the holder.</summary>
    public StoreLockedException(string message) : base(message) { }
}

internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void Format(string path, string problem) => throw new DataFormatException(path, problem);
}
