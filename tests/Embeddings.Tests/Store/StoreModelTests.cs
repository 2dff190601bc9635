using Embeddings.Encoding;
using Embeddings.Store;
using Embeddings.Tests.Encoding;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Store;

/// <summary>A store records the model folder it was made with, so later commands need no --model.</summary>
public sealed class StoreModelTests
{
    [Fact]
    public void The_recorded_folder_is_used_unless_another_is_named_and_survives_reopening()
    {
        using var dir = new TempDir();
        var encoder = new HashingTestEncoder();
        using (PaperStore store = PaperStore.OpenOrCreate(dir.Path, encoder, EncoderFixtures.UseLiteDir))
        {
            Assert.Equal(EncoderFixtures.UseLiteDir, store.ModelFolder);
        }
        using (PaperStore reopened = PaperStore.Open(dir.Path))
        {
            Assert.Equal(EncoderFixtures.UseLiteDir, reopened.ModelFolder);
            Assert.Equal(0, reopened.Count);
        }
        Assert.Equal(EncoderFixtures.UseLiteDir, StoreModel.ResolveModelDirectory(dir.Path, null));
        Assert.Equal(EncoderFixtures.TinyBertDir, StoreModel.ResolveModelDirectory(dir.Path, EncoderFixtures.TinyBertDir));
        // No store (yet): the default model.
        Assert.Equal(SentenceEncoder.FindDefaultModelDirectory(), StoreModel.ResolveModelDirectory(dir.File("none"), null));
    }

    [Fact]
    public void A_recorded_folder_that_is_gone_is_a_clear_error()
    {
        using var dir = new TempDir();
        using var models = new TempDir();
        string gone = Path.Combine(models.Path, "some-model");
        PaperStore.Create(dir.Path, "test-double:hashing-words:16", 16, gone).Dispose();
        var e = Assert.Throws<ModelLoadException>(() => StoreModel.ResolveModelDirectory(dir.Path, null));
        Assert.Contains(gone, e.Message, StringComparison.Ordinal);
        Assert.Contains("--model", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_store_that_recorded_no_model_finds_the_folder_whose_fingerprint_it_has()
    {
        using var dir = new TempDir();
        OnnxSentenceEncoder useLite = EncoderFixtures.UseLite; // shared fixture: not disposed here
        PaperStore.Create(dir.Path, useLite.Fingerprint, useLite.Dimension).Dispose(); // as stores made before the record
        using (PaperStore old = PaperStore.Open(dir.Path))
        {
            Assert.Null(old.ModelFolder);
        }
        Assert.Equal(EncoderFixtures.UseLiteDir, StoreModel.ResolveModelDirectory(dir.Path, null));
    }

    [Fact]
    public void The_one_fingerprint_lookup_finds_each_local_model_folder_and_nothing_for_an_unknown_fingerprint()
    {
        // Stores that did not record their model and PostgreSQL tables both find their model folder with this lookup.
        Assert.Equal(Path.GetFullPath(EncoderFixtures.UseLiteDir), ModelFolders.FindByFingerprint(EncoderFixtures.UseLite.Fingerprint));
        using ISentenceEncoder miniLm = ModelFolders.Load(EncoderFixtures.MiniLmDir, new EncoderOptions { Threads = 1 });
        Assert.Equal(Path.GetFullPath(EncoderFixtures.MiniLmDir), ModelFolders.FindByFingerprint(miniLm.Fingerprint));
        Assert.Null(ModelFolders.FindByFingerprint("test-double:no-such-model:16"));
    }
}

/// <summary>The CLI side: --model is given once, when the store is made.</summary>
public sealed class StoreModelCliTests
{
    [Fact]
    public async Task A_store_made_with_use_lite_is_searched_and_extended_without_repeating_the_model()
    {
        using var dir = new TempDir();
        string papers = dir.File("papers.jsonl");
        File.WriteAllLines(papers,
        [
            """{"id": "p1", "title": "Sparse attention for long documents", "abstract": "We study sparse attention patterns that let transformers read long documents."}""",
            """{"id": "p2", "title": "Protein folding with deep learning", "abstract": "Amino acid sequences are mapped to structures by a deep network."}""",
        ]);
        string store = dir.File("store");
        var (exit, _, err) = await CliHarness.RunAsync("ingest", "--store", store, papers, "--model", EncoderFixtures.UseLiteDir, "--threads", "1", "--quiet");
        Assert.True(exit == 0, err);

        // No --model: the store's own (USE-lite, 512-d), not the default model (384-d) that would not match its vectors.
        (exit, string stdout, err) = await CliHarness.RunAsync("similar", "--store", store, "--text", "attention over long texts", "--mode", "vector", "-k", "1", "--json");
        Assert.True(exit == 0, err);
        Assert.Contains("\"p1\"", stdout, StringComparison.Ordinal);

        File.WriteAllLines(dir.File("more.jsonl"), ["""{"id": "p3", "title": "Graph neural networks", "abstract": "Message passing over molecular graphs."}"""]);
        (exit, _, err) = await CliHarness.RunAsync("ingest", "--store", store, dir.File("more.jsonl"), "--threads", "1", "--quiet");
        Assert.True(exit == 0, err);
    }
}
