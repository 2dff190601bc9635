using System.Diagnostics;

namespace Embeddings.Cli;

/// <summary>
/// Shows <see cref="WorkProgress"/> on stderr: a redrawn bar with rate and ETA when stderr is a terminal, plain
/// timestamped lines (at most one every few seconds) when it is redirected, so logs stay readable.
/// </summary>
internal sealed class ConsoleProgress : IProgress<WorkProgress>, IDisposable
{
    private static readonly TimeSpan LineInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan BarInterval = TimeSpan.FromMilliseconds(100);

    private readonly TextWriter _out;
    private readonly bool _interactive;
    private readonly bool _quiet;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _gate = new();
    private TimeSpan _lastDraw = TimeSpan.MinValue;
    private WorkProgress _last;
    private bool _barShown;

    public ConsoleProgress(CliConsole console, bool quiet)
        : this(console.Error, quiet, console.ErrorIsTerminal)
    {
    }

    public ConsoleProgress(TextWriter output, bool quiet, bool interactive)
    {
        _out = output;
        _interactive = interactive;
        _quiet = quiet;
    }

    public void Report(WorkProgress value)
    {
        if (_quiet)
        {
            return;
        }
        lock (_gate)
        {
            bool stageChanged = value.Stage != _last.Stage;
            bool finished = value.Total is long total && value.Done >= total;
            TimeSpan now = _clock.Elapsed;
            TimeSpan interval = _interactive ? BarInterval : LineInterval;
            _last = value;
            if (!stageChanged && !finished && now - _lastDraw < interval)
            {
                return;
            }
            _lastDraw = now;
            if (_interactive)
            {
                DrawBar(value, now);
                if (finished)
                {
                    _out.WriteLine();
                    _barShown = false;
                }
            }
            else
            {
                _out.WriteLine(Describe(value, now));
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_barShown)
            {
                _out.WriteLine();
                _barShown = false;
            }
        }
    }

    private void DrawBar(WorkProgress p, TimeSpan now)
    {
        const int width = 30;
        string bar;
        if (p.Total is long total && total > 0)
        {
            int filled = (int)Math.Clamp(p.Done * width / total, 0, width);
            bar = "[" + new string('#', filled) + new string('-', width - filled) + "]";
        }
        else
        {
            bar = "[" + new string('~', width) + "]";
        }
        _out.Write("\r\u001b[2K" + bar + " " + Describe(p, now));
        _barShown = true;
    }

    private static string Describe(WorkProgress p, TimeSpan now)
    {
        double rate = now.TotalSeconds > 0 ? p.Done / now.TotalSeconds : 0;
        string of = p.Total is long t ? $"/{t}" : "";
        string eta = p.Total is long all && rate > 0 && all > p.Done ? $", ETA {TimeSpan.FromSeconds((all - p.Done) / rate):hh\\:mm\\:ss}" : "";
        return $"{p.Stage}: {p.Done}{of} {p.Unit} ({rate:F1}/s, {now.TotalSeconds:F0}s{eta})";
    }
}
