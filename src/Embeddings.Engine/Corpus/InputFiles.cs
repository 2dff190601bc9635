namespace Embeddings.Corpus;

/// <summary>The one check of a list of input files, made before any work so that a bad name costs nothing.</summary>
internal static class InputFiles
{
    /// <summary>
    /// Checks that every path names a readable input of a known format: not missing, not a directory (named as such,
    /// with what to do instead), with a known extension.
    /// </summary>
    /// <exception cref="InputFormatException">A path is unusable; the message names it.</exception>
    public static void Check(IEnumerable<string> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        foreach (string file in files)
        {
            if (string.IsNullOrWhiteSpace(file))
            {
                throw new InputFormatException("''", 0, null, "an input file name is empty");
            }
            if (Directory.Exists(file))
            {
                throw new InputFormatException(file, 0, null,
                    "is a directory, not an input file: give the files in it (for example DIR/*.txt), or list them in a file and pass --from-file LIST");
            }
            if (!File.Exists(file))
            {
                throw new InputFormatException(file, 0, null, "input file not found");
            }
            PaperReader.DetectFormat(file);
        }
    }
}
