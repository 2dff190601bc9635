using Embeddings.Search;
using Embeddings.Store;
using Embeddings.Tests.Encoding;
using Embeddings.Tests.Store;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Search;

/// <summary>
/// One store of every daily-papers dump embedded with the real USE-lite model, built once for the search tests
/// (a minute at most on two cores) and opened read-only by each test.
/// </summary>
public sealed class SearchFixture : IAsyncLifetime
{
    private readonly TempDir _dir = new();

    public string StoreDir => _dir.File("store");

    public async Task InitializeAsync()
    {
        using PaperStore store = PaperStore.Create(StoreDir, EncoderFixtures.UseLite.Fingerprint, EncoderFixtures.UseLite.Dimension);
        await store.IngestFilesAsync(StoreTestHelpers.DumpFiles(), EncoderFixtures.UseLite);
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }

    internal async Task<PaperSearch> OpenAsync(PaperStore store) =>
        await PaperSearch.OpenAsync(store, EncoderFixtures.UseLite, new SearchIndexOptions { Persist = false });
}
