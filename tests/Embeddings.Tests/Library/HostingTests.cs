using System.CommandLine;
using Embeddings.Cli;
using Embeddings.Corpus;
using Embeddings.Store;
using Embeddings.Tests.Store;
using Embeddings.Tests.Support;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Embeddings.Tests.Library;

/// <summary>The library as hosts see it: registered in a container, logging, and the CLI's shared options.</summary>
public sealed class HostingTests
{
    [Fact]
    public async Task AddPaperLibrary_registers_a_validated_logging_library_and_its_model_as_the_generator()
    {
        using var dir = new TempDir();
        var logger = new RecordingLogger();
        var services = new ServiceCollection();
        services.AddSingleton<ILogger<PaperLibrary>>(logger);
        services.AddPaperLibrary(o => o.StoreDirectory = dir.File("store"));
        await using (ServiceProvider provider = services.BuildServiceProvider(validateScopes: true))
        {
            PaperLibrary library = provider.GetRequiredService<PaperLibrary>();
            Assert.Same(library, provider.GetRequiredService<PaperLibrary>());
            Assert.Same(library.Embeddings, provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>());
            Assert.Equal(Path.GetFullPath(dir.File("store")), library.StoreDirectory);
            Assert.False((await library.GetStatusAsync()).StoreExists);
        }
        // Event 2: "No store in {Store} yet; the first ingest creates it", with the store as a structured value.
        (EventId id, string message, IReadOnlyList<KeyValuePair<string, object?>> values) = Assert.Single(logger.Entries);
        Assert.Equal(2, id.Id);
        Assert.Contains(dir.File("store"), message, StringComparison.Ordinal);
        Assert.Contains(values, v => v.Key == "Store" && (string?)v.Value == Path.GetFullPath(dir.File("store")));

        var invalid = new ServiceCollection();
        invalid.AddPaperLibrary(o => o.HnswM = 0);
        using ServiceProvider bad = invalid.BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => bad.GetRequiredService<IOptions<PaperLibraryOptions>>().Value);
        Assert.Contains(error.Failures, f => f.Contains(nameof(PaperLibraryOptions.StoreDirectory), StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains(nameof(PaperLibraryOptions.HnswM), StringComparison.Ordinal));
    }

    [Fact]
    public void The_shared_options_are_spelled_the_same_on_every_command()
    {
        var expected = new Dictionary<string, string[]>
        {
            ["--store"] = ["-s"],
            ["--model"] = ["-m"],
            ["--quiet"] = ["-q"],
            ["--output"] = ["-o"],
            ["--threads"] = ["-t"],
            ["--json"] = [],
        };
        var seen = new Dictionary<string, int>();
        foreach (Command command in All(Program.BuildRoot(new CliConsole(TextWriter.Null, TextWriter.Null))))
        {
            foreach (Option option in command.Options.Where(o => expected.ContainsKey(o.Name)))
            {
                Assert.True(expected[option.Name].SequenceEqual(option.Aliases.Order()), $"{command.Name} {option.Name}: aliases {string.Join(",", option.Aliases)}");
                seen[option.Name] = seen.GetValueOrDefault(option.Name) + 1;
            }
        }
        Assert.True(seen["--store"] >= 9 && seen["--quiet"] >= 9 && seen["--json"] >= 9 && seen["--output"] >= 4, string.Join(", ", seen));

        static IEnumerable<Command> All(Command root) => new[] { root }.Concat(root.Subcommands.SelectMany(All));
    }

    [Fact]
    public async Task Dash_as_output_writes_to_stdout()
    {
        using var dir = new TempDir();
        string storeDir = dir.File("store");
        using (var encoder = new HashingTestEncoder(16))
        using (var store = PaperStore.OpenOrCreate(storeDir, encoder))
        {
            await store.IngestAsync(StoreTestHelpers.Papers("a.txt",
                new Paper("p1", "Sparse attention", "Long documents."), new Paper("p2", "Graph networks", "Molecules.")), encoder);
        }
        var (exit, stdout, stderr) = await CliHarness.RunAsync("export", "-s", storeDir, "--format", "jsonl", "-o", "-");
        Assert.True(exit == 0, stderr);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["p1", "p2"], lines.Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("id").GetString()));
        Assert.False(File.Exists("-"));

        (exit, _, stderr) = await CliHarness.RunAsync("export", "-s", storeDir, "--format", "npy", "-o", "-");
        Assert.Equal(2, exit);
        Assert.Contains("npy", stderr, StringComparison.Ordinal);

        (exit, stdout, stderr) = await CliHarness.RunAsync("digest", "-s", storeDir, "--format", "md", "-o", "-", "-q");
        Assert.True(exit == 0, stderr);
        Assert.StartsWith("# Topic digest", stdout, StringComparison.Ordinal);
    }

    private sealed class RecordingLogger : ILogger<PaperLibrary>
    {
        public List<(EventId Id, string Message, IReadOnlyList<KeyValuePair<string, object?>> Values)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((eventId, formatter(state, exception), state as IReadOnlyList<KeyValuePair<string, object?>> ?? []));
    }
}
