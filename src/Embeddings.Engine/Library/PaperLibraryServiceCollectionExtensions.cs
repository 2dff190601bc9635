using Embeddings;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers a <see cref="PaperLibrary"/> for hosts (an HTTP server, a worker).</summary>
public static class PaperLibraryServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="PaperLibraryOptions"/> (configured by <paramref name="configure"/> and any other
    /// <c>Configure&lt;PaperLibraryOptions&gt;</c> or configuration binding; validated when the host starts), a singleton
    /// <see cref="PaperLibrary"/> opened from them with an <see cref="ILogger{TCategoryName}"/>, and its model as the
    /// <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> of <c>string</c> to <see cref="Embedding{T}"/> of <c>float</c>.
    /// The container disposes the library.
    /// </summary>
    public static IServiceCollection AddPaperLibrary(this IServiceCollection services, Action<PaperLibraryOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<PaperLibraryOptions> options = services.AddOptions<PaperLibraryOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PaperLibraryOptions>, PaperLibraryOptionsValidator>());
        services.TryAddSingleton(provider => PaperLibrary.Open(
            provider.GetRequiredService<IOptions<PaperLibraryOptions>>().Value,
            provider.GetService<ILogger<PaperLibrary>>()));
        services.TryAddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(provider => provider.GetRequiredService<PaperLibrary>().Embeddings);
        return services;
    }

    /// <summary>The options' own checks (<see cref="EmbeddingModelOptions.Validate"/>), run by the options system.</summary>
    private sealed class PaperLibraryOptionsValidator : IValidateOptions<PaperLibraryOptions>
    {
        public ValidateOptionsResult Validate(string? name, PaperLibraryOptions options)
        {
            IReadOnlyList<string> problems = options.Validate();
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
