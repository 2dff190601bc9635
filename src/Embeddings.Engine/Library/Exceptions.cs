namespace Embeddings;

/// <summary>No stored paper has the id asked for.</summary>
public sealed class PaperNotFoundException : EmbeddingsException
{
    /// <summary>Creates the error for <paramref name="id"/> in the store at <paramref name="storeDirectory"/>.</summary>
    public PaperNotFoundException(string id, string storeDirectory)
        : this(id, $"the store '{storeDirectory}'", $"Find the stored papers and their ids with `embeddings list --store {storeDirectory}` (`--filter` narrows the list).")
    {
    }

    /// <summary>Creates the error for <paramref name="id"/> in <paramref name="location"/> (a store, a table), with how to find the ids there.</summary>
    public PaperNotFoundException(string id, string location, string advice)
        : base($"No paper with id '{id}' in {location}. {advice}")
    {
        Id = id;
    }

    /// <summary>The id that was not found.</summary>
    public string Id { get; }
}

/// <summary>
/// The model in use is not the model the store's vectors came from; vectors of different models cannot be compared.
/// </summary>
public sealed class ModelMismatchException : EmbeddingsException
{
    /// <summary>Creates the error with both fingerprints.</summary>
    public ModelMismatchException(string storeDirectory, string storeFingerprint, string modelFingerprint)
        : base($"The model in use (fingerprint {modelFingerprint}) is not the model of the store '{storeDirectory}' " +
               $"(fingerprint {storeFingerprint}). Pass the model the store was ingested with (--model DIR, or " +
               $"{nameof(PaperLibraryOptions)}.{nameof(PaperLibraryOptions.ModelDirectory)}), or use another store directory.")
    {
        StoreFingerprint = storeFingerprint;
        ModelFingerprint = modelFingerprint;
    }

    private ModelMismatchException(string message, (string Stored, string Model) fingerprints)
        : base(message)
    {
        StoreFingerprint = fingerprints.Stored;
        ModelFingerprint = fingerprints.Model;
    }

    /// <summary>The error for papers kept elsewhere than a store folder: <paramref name="location"/> names it (a database table).</summary>
    internal static ModelMismatchException ForLocation(string location, string storedFingerprint, string modelFingerprint) => new(
        $"The model in use (fingerprint {modelFingerprint}) is not the model of {location} (fingerprint {storedFingerprint}). " +
        $"Pass the model its vectors were made with (--model DIR, or {nameof(PaperLibraryOptions)}.{nameof(PaperLibraryOptions.ModelDirectory)}), " +
        "or leave the model out to use the local model folder with that fingerprint.", (storedFingerprint, modelFingerprint));

    /// <summary>Fingerprint of the model the store (or table) is bound to.</summary>
    public string StoreFingerprint { get; }

    /// <summary>Fingerprint of the model that was offered.</summary>
    public string ModelFingerprint { get; }
}

/// <summary>
/// <see cref="Microsoft.Extensions.AI.EmbeddingGenerationOptions.Dimensions"/> asked for a vector length the model cannot
/// give. Only a model whose leading components are themselves a valid embedding (the corpus-fitted LSA model, whose
/// components are ordered by singular value; a Matryoshka-trained model) can be cut to fewer dimensions.
/// </summary>
public sealed class DimensionsNotSupportedException : EmbeddingsException
{
    /// <summary>Creates the error for a request of <paramref name="requested"/> dimensions.</summary>
    public DimensionsNotSupportedException(string model, int requested, int dimension, bool truncatable)
        : base(truncatable
            ? $"The model '{model}' gives {dimension}-dimensional vectors; {requested} dimensions were asked for. Ask for 1 to {dimension}, or leave Dimensions unset."
            : $"The model '{model}' gives {dimension}-dimensional vectors and was not trained to be cut shorter (it is not a Matryoshka model), " +
              $"so {requested} dimensions cannot be given. Leave Dimensions unset (or set it to {dimension}).")
    {
        Requested = requested;
        Dimension = dimension;
    }

    /// <summary>The dimension asked for.</summary>
    public int Requested { get; }

    /// <summary>The model's dimension.</summary>
    public int Dimension { get; }
}

/// <summary>A request to the library is malformed (a query with nothing to search for, a bad filter, a bad option).</summary>
public sealed class InvalidRequestException : EmbeddingsException
{
    /// <summary>Creates the error; the message says what to change.</summary>
    public InvalidRequestException(string message) : base(message) { }

    /// <summary>Creates the error from the argument check that failed.</summary>
    public InvalidRequestException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// The model runtime (ONNX Runtime) cannot be loaded or failed while running the model: the native library is missing
/// or too old (the message says where it was looked for and how to get one), or ONNX Runtime rejected the model or
/// failed during a run (its own message and error code are kept). <see cref="ExecutionProviderUnavailableException"/>
/// is the case of CUDA asked for and not usable.
/// </summary>
public class ModelRuntimeException : EmbeddingsException
{
    /// <summary>Creates the error; the message says what to do, <paramref name="inner"/> is the runtime's own error.</summary>
    public ModelRuntimeException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// CUDA was asked for (<c>--device cuda</c>) but cannot be used, and CPU fallback was not allowed. The message names
/// what is missing (the GPU build of ONNX Runtime, CUDA or cuDNN libraries, a GPU) and how to get it.
/// </summary>
public sealed class ExecutionProviderUnavailableException : ModelRuntimeException
{
    /// <summary>Creates the error.</summary>
    internal ExecutionProviderUnavailableException(string message, IReadOnlyList<string> missingLibraries, Exception? inner = null)
        : base(message, inner ?? new InvalidOperationException(message))
    {
        MissingLibraries = missingLibraries;
    }

    /// <summary>The shared libraries that could not be found or loaded (empty when the failure was elsewhere).</summary>
    public IReadOnlyList<string> MissingLibraries { get; }
}

