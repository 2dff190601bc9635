using Embeddings.Native;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Native;

/// <summary>Missing library, corrupt model and unusable CUDA give the documented, typed errors.</summary>
public sealed class RuntimeErrorTests
{
    [Fact]
    public void Runtime_is_found_where_setup_native_puts_it()
    {
        var runtime = OrtRuntime.Load();
        Assert.Equal(OrtRuntime.BundledVersion, runtime.Version);
        Assert.Contains("CPUExecutionProvider", runtime.AvailableProviders);
        Assert.Same(runtime, OrtRuntime.Load());
        // The unversioned symlink that setup-native.sh creates is the same library, hence the same runtime.
        var symlink = Path.Combine(Path.GetDirectoryName(runtime.LibraryPath)!, "libonnxruntime.so");
        if (File.Exists(symlink))
        {
            Assert.Same(runtime, OrtRuntime.Load(symlink));
        }
        if (Environment.GetEnvironmentVariable(OrtRuntime.LibraryPathVariable) is not { Length: > 0 })
        {
            var expected = Path.Combine(TestPaths.RepoRoot, ".native", "onnxruntime-" + OrtRuntime.BundledVersion, OrtRuntime.BundledFileName);
            Assert.Equal(expected, runtime.LibraryPath);
        }
    }

    [Fact]
    public void Missing_library_path_says_how_to_get_the_runtime()
    {
        using var dir = new TempDir();
        var missing = dir.File("libonnxruntime.so.1");

        var error = Assert.Throws<OnnxRuntimeNotFoundException>(() => OrtRuntime.Load(missing));

        Assert.Contains(missing, error.Message);
        Assert.Contains("scripts/setup-native.sh", error.Message);
        Assert.Contains(OrtRuntime.LibraryPathVariable, error.Message);
        Assert.Equal([missing], error.Candidates);
    }

    [Fact]
    public void A_file_that_is_not_a_library_gives_the_same_error()
    {
        using var dir = new TempDir();
        var garbage = dir.File("libonnxruntime.so.1");
        File.WriteAllBytes(garbage, Enumerable.Range(0, 4096).Select(i => (byte)(i * 31)).ToArray());

        var error = Assert.Throws<OnnxRuntimeNotFoundException>(() => OrtRuntime.Load(garbage));

        Assert.Contains("cannot be loaded", error.Message);
        Assert.Contains("scripts/setup-native.sh", error.Message);
    }

    [Fact]
    public void Resolution_order_is_argument_then_variable_then_repository_native_folder()
    {
        using var dir = new TempDir();
        var bundledDir = Directory.CreateDirectory(Path.Combine(dir.Path, ".native", "onnxruntime-" + OrtRuntime.BundledVersion));
        var bundled = Path.Combine(bundledDir.FullName, OrtRuntime.BundledFileName);
        File.WriteAllBytes(bundled, [0]);
        var deep = Directory.CreateDirectory(Path.Combine(dir.Path, "src", "App", "bin", "Debug")).FullName;

        Assert.Equal("/opt/a.so", OrtRuntime.Locate("/opt/a.so", "/opt/b.so", [deep]).Path);
        Assert.Equal("/opt/b.so", OrtRuntime.Locate(null, "/opt/b.so", [deep]).Path);
        var (path, tried, isExplicit) = OrtRuntime.Locate(null, null, [deep]);
        Assert.Equal(bundled, path);
        Assert.False(isExplicit);
        Assert.Equal([bundled], tried);

        File.Delete(bundled);
        Assert.Null(OrtRuntime.Locate(null, "", [deep]).Path);
    }

    [Fact]
    public void Corrupt_model_file_is_a_runtime_error_with_the_runtime_code()
    {
        using var dir = new TempDir();
        var model = dir.File("corrupt.onnx");
        var random = new Random(1234);
        var bytes = new byte[10_000];
        random.NextBytes(bytes);
        File.WriteAllBytes(model, bytes);

        var error = Assert.Throws<OnnxRuntimeException>(() => OnnxSession.Create(OrtRuntime.Load(), model));

        Assert.Equal("CreateSession", error.Operation);
        Assert.Equal(OrtErrorCode.InvalidProtobuf, error.ErrorCode);
        Assert.Contains("InvalidProtobuf", error.Message);
        Assert.False(string.IsNullOrWhiteSpace(error.RuntimeMessage));
    }

    [Fact]
    public void Missing_model_file_is_a_file_not_found_error()
    {
        using var dir = new TempDir();
        var error = Assert.Throws<FileNotFoundException>(() => OnnxSession.Create(OrtRuntime.Load(), dir.File("none.onnx")));
        Assert.Contains("none.onnx", error.Message);
    }

    [Fact]
    public void Cuda_without_fallback_throws_a_message_naming_what_is_missing()
    {
        var runtime = OrtRuntime.Load();
        var options = new OnnxSessionOptions { ExecutionProvider = ExecutionProvider.Cuda };
        OnnxSession session;
        try
        {
            session = OnnxSession.Create(runtime, NativeFixtures.UseLiteModelPath, options);
        }
        catch (ExecutionProviderUnavailableException error)
        {
            Assert.Equal(ExecutionProvider.Cuda, error.Provider);
            Assert.NotEqual(OrtErrorCode.Ok, error.ErrorCode);
            Assert.Contains("libonnxruntime_providers_cuda.so", error.Message);
            Assert.Contains("libonnxruntime_providers_shared.so", error.Message);
            Assert.Contains("CUDA 12", error.Message);
            Assert.Contains("cuDNN 9", error.Message);
            Assert.Contains(OrtRuntime.LibraryPathVariable, error.Message);
            return;
        }
        // A GPU build on a GPU machine: then CUDA must really work.
        using (session)
        {
            Assert.Equal(ExecutionProvider.Cuda, session.ExecutionProvider);
            Assert.Null(session.ProviderWarning);
            var output = NativeFixtures.EmbedUseLite(session, [NativeFixtures.UseLiteRef.TokenIds[1]]);
            Assert.True(NativeFixtures.MaxAbsDiff(output, NativeFixtures.UseLiteRef.Embeddings[1]) <= 1e-4f);
        }
    }

    [Fact]
    public void Cuda_with_fallback_runs_on_cpu_and_reports_a_warning()
    {
        var runtime = OrtRuntime.Load();
        var options = new OnnxSessionOptions { ExecutionProvider = ExecutionProvider.Cuda, AllowCpuFallback = true, IntraOpThreads = 1 };

        using var session = OnnxSession.Create(runtime, NativeFixtures.UseLiteModelPath, options);

        if (session.ExecutionProvider == ExecutionProvider.Cpu)
        {
            Assert.NotNull(session.ProviderWarning);
            Assert.Contains("libonnxruntime_providers_cuda.so", session.ProviderWarning);
            Assert.Contains("Running on CPU", session.ProviderWarning);
        }
        else
        {
            Assert.Null(session.ProviderWarning);
        }
        var output = NativeFixtures.EmbedUseLite(session, [NativeFixtures.UseLiteRef.TokenIds[2]]);
        Assert.True(NativeFixtures.MaxAbsDiff(output, NativeFixtures.UseLiteRef.Embeddings[2]) <= 1e-4f);
    }
}
