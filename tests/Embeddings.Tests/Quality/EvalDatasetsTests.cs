using Embeddings.Evaluation;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Quality;

public sealed class EvalDatasetsTests
{
    [Fact]
    public void Loads_stsb_sick_beir_and_arxiv_layouts()
    {
        var stsb = EvalDatasets.LoadSts(TestPaths.SharedFile("eval-dev", "stsb", "sts-train.csv"));
        Assert.Equal(5749, stsb.Pairs.Count);
        Assert.Equal(new StsPair("A plane is taking off.", "An air plane is taking off.", 5.0), stsb.Pairs[0]);

        var sick = EvalDatasets.LoadSts(TestPaths.SharedFile("eval-dev", "sick", "SICK_train.txt"));
        Assert.Equal(4500, sick.Pairs.Count);
        Assert.Equal(4.5, sick.Pairs[0].Score);

        var scifact = EvalDatasets.LoadBeir(TestPaths.SharedFile("eval-dev", "scifact"));
        Assert.Equal(5183, scifact.Corpus.Count);
        Assert.Equal(809, scifact.Queries.Count);
        Assert.Equal(919, scifact.Judgements.Values.Sum(j => j.Count));
        Assert.Equal("scifact/train", scifact.Name);

        var arxiv = EvalDatasets.LoadClustering(TestPaths.SharedFile("eval-dev", "arxiv_math_2025", "arxiv_data.csv"));
        Assert.Equal(3397, arxiv.Items.Count);
        Assert.Equal(30, arxiv.LabelCount);
        Assert.Equal("math.ST", arxiv.Items[0].Label);
        Assert.Equal(406, arxiv.Items.Count(i => i.Label == "math.AP"));
        Assert.StartsWith("Consistent line clustering using geometric hypergraphs.\nTraditional", arxiv.Items[0].Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_sts_score_names_file_line_and_field()
    {
        using var dir = new TempDir();
        string path = dir.File("bad.tsv");
        File.WriteAllText(path, "pair_ID\tsentence_A\tsentence_B\trelatedness_score\n1\ta\tb\t4.5\n2\ta\tb\thigh\n");
        var e = Assert.Throws<InputFormatException>(() => EvalDatasets.LoadSts(path));
        Assert.Equal(3, e.Line);
        Assert.Equal("relatedness_score", e.Field);
    }
}
