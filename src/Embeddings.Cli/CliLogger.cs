using Microsoft.Extensions.Logging;

namespace Embeddings.Cli;

/// <summary>
/// The library's log as a CLI user wants it: warnings and errors as <c>embeddings: warning: ...</c> lines on stderr,
/// nothing else. Input problems are left out: the commands report those themselves, as they are met.
/// </summary>
internal sealed class CliLogger(CliConsole console) : ILogger
{
    /// <summary>The event id of the library's input-problem message (reported by the commands instead).</summary>
    private const int InputIssueEvent = 7;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel) || eventId.Id == InputIssueEvent)
        {
            return;
        }
        console.Report((logLevel == LogLevel.Warning ? "warning: " : "") + formatter(state, exception));
    }
}
