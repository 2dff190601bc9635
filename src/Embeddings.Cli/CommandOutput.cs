using System.Text;

namespace Embeddings.Cli;

/// <summary>
/// The text a command prints, sent to stdout or, with <c>-o FILE</c>, to a file that appears only when the command
/// succeeds (written beside it under a temporary name and renamed at the end, so a failed run leaves no torn file).
/// </summary>
internal sealed class CommandOutput : IAsyncDisposable
{
    private readonly string? _path;
    private readonly string? _temp;
    private bool _completed;

    private CommandOutput(TextWriter text, string? path, string? temp)
    {
        Text = text;
        _path = path;
        _temp = temp;
    }

    public TextWriter Text { get; }

    /// <summary>stdout when <paramref name="output"/> is null or <c>-</c>, else the file.</summary>
    public static CommandOutput Open(CliConsole console, string? output)
    {
        if (output is null || output == CommonOptions.Stdout)
        {
            return new CommandOutput(console.Out, null, null);
        }
        string full = Path.GetFullPath(output);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        return new CommandOutput(new StreamWriter(temp, append: false, new UTF8Encoding(false)), full, temp);
    }

    /// <summary>Marks the output complete: the file is published when disposed.</summary>
    public void Complete() => _completed = true;

    public async ValueTask DisposeAsync()
    {
        if (_path is null)
        {
            await Text.FlushAsync().ConfigureAwait(false);
            return;
        }
        await Text.DisposeAsync().ConfigureAwait(false);
        if (_completed)
        {
            File.Move(_temp!, _path, overwrite: true);
        }
        else
        {
            File.Delete(_temp!);
        }
    }
}
