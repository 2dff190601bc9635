using System.Text;

namespace Embeddings.Cli;

/// <summary>
/// Where a CLI run writes: stdout and stderr as writers (and stdout as a stream for file-like output, <c>-o -</c>),
/// whether each is a terminal, and the terminal width. Injected into every command so tests run the CLI in parallel,
/// each with its own captured output.
/// </summary>
internal sealed class CliConsole
{
    private readonly Func<Stream> _openStandardOutput;

    public CliConsole(TextWriter output, TextWriter error, bool outputIsTerminal = false, bool errorIsTerminal = false,
        int width = 100, Func<Stream>? openStandardOutput = null, TextReader? input = null)
    {
        In = input ?? TextReader.Null;
        Out = output;
        Error = error;
        OutputIsTerminal = outputIsTerminal;
        ErrorIsTerminal = errorIsTerminal;
        Width = width;
        _openStandardOutput = openStandardOutput ?? (() => new TextWriterStream(output));
    }

    /// <summary>The process's own console.</summary>
    public static CliConsole System { get; } = new(Console.Out, Console.Error,
        outputIsTerminal: !Console.IsOutputRedirected,
        errorIsTerminal: !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("TERM") != "dumb",
        width: Console.IsOutputRedirected ? 100 : Math.Max(60, SafeWindowWidth()),
        openStandardOutput: Console.OpenStandardOutput,
        input: Console.In);

    /// <summary>Standard input (lists of input files given as <c>--from-file -</c>).</summary>
    public TextReader In { get; }

    /// <summary>Standard output.</summary>
    public TextWriter Out { get; }

    /// <summary>Standard error: progress, warnings, one-line errors.</summary>
    public TextWriter Error { get; }

    /// <summary>Whether stdout is a terminal (tables) rather than a pipe or file.</summary>
    public bool OutputIsTerminal { get; }

    /// <summary>Whether stderr is a terminal (a redrawn progress bar) rather than a log.</summary>
    public bool ErrorIsTerminal { get; }

    /// <summary>Columns available for tables.</summary>
    public int Width { get; }

    /// <summary>Stdout as a stream (for <c>-o -</c>), after flushing what was written through <see cref="Out"/>. Not closed by disposing it.</summary>
    public Stream OpenStandardOutput()
    {
        Out.Flush();
        return new NonClosingStream(_openStandardOutput());
    }

    /// <summary>Writes <c>embeddings: MESSAGE</c> on stderr.</summary>
    public void Report(string message) => Error.WriteLine("embeddings: " + message);

    private static int SafeWindowWidth()
    {
        try
        {
            return Console.WindowWidth;
        }
        catch (IOException)
        {
            return 100;
        }
    }

    /// <summary>Bytes written to it reach a text writer as UTF-8 text (stdout of an in-process run).</summary>
    private sealed class TextWriterStream(TextWriter writer) : Stream
    {
        private readonly Decoder _decoder = new UTF8Encoding(false).GetDecoder();

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => writer.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            char[] chars = new char[_decoder.GetCharCount(buffer, offset, count)];
            int n = _decoder.GetChars(buffer, offset, count, chars, 0);
            writer.Write(chars, 0, n);
        }
    }

    /// <summary>Leaves the underlying stream (stdout) open when disposed.</summary>
    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Flush();
            }
            base.Dispose(disposing);
        }
    }
}
