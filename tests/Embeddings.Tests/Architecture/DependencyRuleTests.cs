using ArchUnitNET.Domain;
using ArchUnitNET.Domain.Dependencies;
using ArchUnitNET.Loader;
using Embeddings.Store;

namespace Embeddings.Tests.Architecture;

/// <summary>
/// The dependency rule of ARCHITECTURE.md, checked on the compiled engine (every type reference in signatures and
/// method bodies, read from the IL by ArchUnitNET): a namespace may use only namespaces of earlier layers. Namespaces
/// of one layer are peers and do not use each other. The root namespace <c>Embeddings</c> holds three things: the error
/// types every layer throws and the contract types the facade takes and returns (<c>SimilarQuery</c>, <c>TopicModel</c>,
/// ...), both in the bottom layer, and the library facade (the top layer, which nothing else may use). A root type is a
/// contract when it uses no engine namespace but the root: one that does is part of the facade, so a stage that used
/// it would be reported.
/// </summary>
public sealed class DependencyRuleTests
{
    /// <summary>The layers, bottom first. A sub-namespace belongs to its parent's layer (Embeddings.Encoding.Lsa is Encoding).</summary>
    internal static readonly string[][] Layers =
    [
        ["Embeddings (errors and contracts)"],
        ["Embeddings.Quality"],
        ["Embeddings.IO"],
        ["Embeddings.Numerics"],
        ["Embeddings.Tokenization"],
        ["Embeddings.Corpus"],
        ["Embeddings.Encoding"],
        ["Embeddings.Store", "Embeddings.Index", "Embeddings.Lexical"],
        ["Embeddings.Search", "Embeddings.Topics"],
        ["Embeddings.Digests"],
        ["Embeddings (facade)"],
    ];

    /// <summary>Only the encoders talk to ONNX Runtime (the Microsoft.ML.OnnxRuntime.Managed package).</summary>
    private static readonly string[] RuntimeAssemblies = ["Microsoft.ML.OnnxRuntime"];

    private static readonly Lazy<ArchUnitNET.Domain.Architecture> Engine = new(() =>
        new ArchLoader().LoadAssemblies(typeof(PaperStore).Assembly).Build());

    [Fact]
    public void Every_engine_namespace_has_a_layer()
    {
        var unknown = EngineTypes().Select(t => t.Namespace.FullName).Distinct().Where(ns => LayerOf(ns, isError: false) < 0).ToList();
        Assert.True(unknown.Count == 0, "namespaces without a layer (add them to DependencyRuleTests.Layers and ARCHITECTURE.md): " + string.Join(", ", unknown));
    }

    [Fact]
    public void Dependencies_point_down_the_layers_only()
    {
        var violations = new SortedSet<string>(StringComparer.Ordinal);
        string engineAssembly = typeof(PaperStore).Assembly.GetName().Name!;
        foreach (IType type in EngineTypes())
        {
            (int layer, string group) = Place(type);
            foreach (ITypeDependency dependency in type.Dependencies)
            {
                IType target = dependency.Target;
                if (target?.Assembly is null || target.Namespace is null || target is GenericParameter)
                {
                    continue; // generic parameters and the like
                }
                string targetAssembly = target.Assembly.Name.Split(',')[0];
                if (RuntimeAssemblies.Any(a => targetAssembly.StartsWith(a, StringComparison.Ordinal)) && group != "Embeddings.Encoding")
                {
                    violations.Add($"{type.FullName} ({group}) uses the ONNX Runtime binding ({target.FullName}); only Embeddings.Encoding may");
                    continue;
                }
                if (targetAssembly != engineAssembly || target.FullName == type.FullName)
                {
                    continue;
                }
                (int targetLayer, string targetGroup) = Place(target);
                bool allowed = targetLayer < layer || (targetLayer == layer && targetGroup == group);
                if (!allowed)
                {
                    violations.Add($"{type.FullName} ({group}, layer {layer}) uses {target.FullName} ({targetGroup}, layer {targetLayer})");
                }
            }
        }
        Assert.True(violations.Count == 0, "dependencies against the rule of ARCHITECTURE.md:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void The_engine_does_not_reference_its_hosts_or_the_evaluation_harness()
    {
        string[] referenced = typeof(PaperStore).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToArray();
        Assert.DoesNotContain("embeddings", referenced);
        Assert.DoesNotContain("Embeddings.Evaluation", referenced);
        Assert.DoesNotContain("Embeddings.Server", referenced);
    }

    [Fact]
    public void The_HTTP_host_stands_on_the_engine_alone_and_the_engine_grants_it_no_internals()
    {
        string[] ours = typeof(Embeddings.Server.PaperLibraryServer).Assembly.GetReferencedAssemblies().Select(a => a.Name!)
            .Where(a => a.StartsWith("Embeddings", StringComparison.Ordinal) || a == "embeddings").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["Embeddings.Engine"], ours);
        Assert.DoesNotContain(typeof(PaperStore).Assembly.GetCustomAttributes(typeof(System.Runtime.CompilerServices.InternalsVisibleToAttribute), false)
            .Cast<System.Runtime.CompilerServices.InternalsVisibleToAttribute>(), a => a.AssemblyName.StartsWith("Embeddings.Server", StringComparison.Ordinal));
    }

    private static IEnumerable<IType> EngineTypes() => Engine.Value.Types.Where(t => t.Namespace.FullName.StartsWith("Embeddings", StringComparison.Ordinal));

    private static (int Layer, string Group) Place(IType type)
    {
        string ns = type.Namespace.FullName;
        int layer = LayerOf(ns, IsErrorType(type) || IsContractType(type));
        if (layer < 0)
        {
            return (int.MaxValue, ns);
        }
        string group = ns == "Embeddings" ? Layers[layer][0] : Layers[layer].First(g => ns == g || ns.StartsWith(g + ".", StringComparison.Ordinal));
        return (layer, group);
    }

    private static int LayerOf(string ns, bool isError)
    {
        if (ns == "Embeddings")
        {
            return isError ? 0 : Layers.Length - 1;
        }
        for (int i = 0; i < Layers.Length; i++)
        {
            if (Layers[i].Any(g => ns == g || ns.StartsWith(g + ".", StringComparison.Ordinal)))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>
    /// The root namespace's contract types: those that use no engine type outside the root namespace and no facade type,
    /// where a facade type is a root type that uses an engine namespace below it or another facade type (a fixpoint:
    /// <c>PaperLibrary</c> uses the store, so it is facade; a type that uses <c>PaperLibrary</c> is facade too).
    /// </summary>
    private static readonly Lazy<HashSet<string>> ContractTypes = new(() =>
    {
        string engineAssembly = typeof(PaperStore).Assembly.GetName().Name!;
        List<IType> root = [.. EngineTypes().Where(t => t.Namespace.FullName == "Embeddings" && !IsErrorType(t))];
        var facade = new HashSet<string>(StringComparer.Ordinal);
        bool changed = true;
        while (changed)
        {
            changed = false;
            foreach (IType type in root)
            {
                if (facade.Contains(type.FullName))
                {
                    continue;
                }
                bool usesFacade = type.Dependencies.Any(d =>
                    d.Target?.Assembly is not null && d.Target.Namespace is not null && d.Target is not GenericParameter && d.Target.FullName != type.FullName &&
                    d.Target.Assembly.Name.Split(',')[0] == engineAssembly &&
                    (d.Target.Namespace.FullName != "Embeddings" || facade.Contains(d.Target.FullName)));
                if (usesFacade)
                {
                    facade.Add(type.FullName);
                    changed = true;
                }
            }
        }
        return [.. root.Select(t => t.FullName).Where(name => !facade.Contains(name))];
    });

    private static bool IsContractType(IType type) => type.Namespace.FullName == "Embeddings" && ContractTypes.Value.Contains(type.FullName);

    /// <summary>The root namespace's error vocabulary: EmbeddingsException and its subclasses, and the helper that throws them.</summary>
    private static bool IsErrorType(IType type)
    {
        if (type.Name == "ThrowHelper" || type.FullName.StartsWith("Embeddings.ThrowHelper", StringComparison.Ordinal))
        {
            return true;
        }
        for (IType? t = type; t is Class c; t = c.BaseClass)
        {
            if (t.FullName == "Embeddings.EmbeddingsException")
            {
                return true;
            }
        }
        return false;
    }
}
