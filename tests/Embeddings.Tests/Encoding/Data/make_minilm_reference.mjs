// Makes minilm_reference.json: all-MiniLM-L6-v2 vectors of a few texts computed outside this project, with
// onnxruntime-node on the same model.onnx, from token ids made by Microsoft.ML.Tokenizers 2.0.1 (BertTokenizer over
// the model's vocab.txt; [CLS] + at most 254 pieces + [SEP], as sentence-transformers truncates at 256), mean-pooled
// over the tokens and L2-normalised in double precision, as sentence-transformers does.
//
// usage: node make_minilm_reference.mjs <dir with node_modules/onnxruntime-node> <model.onnx> <ids.json> <out.json>
// ids.json: { "texts": [...], "input_ids": [[...], ...] }
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const [ortDir, modelPath, idsPath, outPath] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(ortDir), 'package.json'));
const ort = require('onnxruntime-node');
const input = JSON.parse(fs.readFileSync(idsPath, 'utf8'));
const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });

const embeddings = [];
for (const ids of input.input_ids) {
  const n = ids.length;
  const feeds = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, n]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(n), [1, n]),
  };
  const out = await session.run(feeds, ['last_hidden_state']);
  const hidden = out.last_hidden_state.data;
  const dim = out.last_hidden_state.dims[2];
  const mean = new Float64Array(dim);
  for (let t = 0; t < n; t++) for (let d = 0; d < dim; d++) mean[d] += hidden[t * dim + d];
  let norm = 0;
  for (let d = 0; d < dim; d++) { mean[d] /= n; norm += mean[d] * mean[d]; }
  norm = Math.sqrt(norm);
  embeddings.push(Array.from(mean, v => v / norm));
}
fs.writeFileSync(outPath, JSON.stringify({
  model: 'sentence-transformers/all-MiniLM-L6-v2 (model.onnx sha256 4a64cee3d4134bbdc86eed96e1a660efec58975417204ecfcf134140edb6e0e2)',
  runtime: `onnxruntime-node ${require('onnxruntime-node/package.json').version}`,
  tokenizer: 'Microsoft.ML.Tokenizers 2.0.1 BertTokenizer (lower-case), truncated to 256 tokens',
  texts: input.texts,
  input_ids: input.input_ids,
  embeddings,
}) + '\n');
console.log(`wrote ${embeddings.length} vectors of ${embeddings[0].length} to ${outPath}`);
