using System.Text;

namespace Embeddings.Cli;

/// <summary>
/// The text a command prints, sent to stdout or, with <c>-o FILE</c>, to an <see cref="OutputFile"/>: it appears only
/// when the command succeeds and never torn, a symbolic link is followed, a pipe or device is written through, and a
/// directory, a block device or a path inside a store folder is refused.
/// </summary>
internal sealed class CommandOutput : IAsyncDisposable
{
    private readonly OutputFile? _file;
    private bool _completed;

    private CommandOutput(TextWriter text, OutputFile? file)
    {
        Text = text;
        _file = file;
    }

    public TextWriter Text { get; }

    /// <summary>stdout when <paramref name="output"/> is null or <c>-</c>, else the file.</summary>
    public static CommandOutput Open(CliConsole console, string? output)
    {
        if (output is null || output == CommonOptions.Stdout)
        {
            return new CommandOutput(console.Out, null);
        }
        OutputFile file = OutputFile.Create(output);
        return new CommandOutput(new StreamWriter(file.Stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true), file);
    }

    /// <summary>Marks the output complete: the file is published when disposed.</summary>
    public void Complete() => _completed = true;

    public async ValueTask DisposeAsync()
    {
        if (_file is null)
        {
            await Text.FlushAsync().ConfigureAwait(false);
            return;
        }
        using (_file)
        {
            try
            {
                await Text.DisposeAsync().ConfigureAwait(false);
            }
            catch (IOException) when (!_completed)
            {
                // The output is thrown away anyway (a full disk fails the flush too).
            }
            if (_completed)
            {
                _file.Commit();
            }
        }
    }
}
