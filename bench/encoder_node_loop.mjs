// The runtime's floor for the encoder benchmark: a plain loop over onnxruntime-node running exactly the batches
// (same token ids, same batch composition and order) that the C# encoder ran. Input tensors are built BEFORE the
// clock starts, so the figure is session.run alone: no tokenizing, windowing, batching or pooling.
//
// usage: node encoder_node_loop.mjs <dir with node_modules/onnxruntime-node> <spec.json>
// spec: { kind: "use-lite" | "sentence-transformers", model, threads, output, inputs: {role: name},
//         cls, sep, batches: [[[ids...], ...], ...] }
// prints one JSON line: { seconds, cpu_seconds (user + system of the loop), runs, windows, tokens, runtime_version }
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const [ortDir, specPath] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(ortDir), 'package.json'));
const ort = require('onnxruntime-node');
const spec = JSON.parse(fs.readFileSync(specPath, 'utf8'));

const session = await ort.InferenceSession.create(spec.model, {
  intraOpNumThreads: spec.threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});

function feedsOf(batch) {
  if (spec.kind === 'use-lite') {
    let n = 0;
    for (const ids of batch) n += ids.length;
    const indices = new BigInt64Array(n * 2);
    const values = new BigInt64Array(n);
    let k = 0;
    batch.forEach((ids, row) => {
      ids.forEach((id, pos) => {
        indices[2 * k] = BigInt(row);
        indices[2 * k + 1] = BigInt(pos);
        values[k] = BigInt(id);
        k++;
      });
    });
    return {
      [spec.inputs.indices]: new ort.Tensor('int64', indices, [n, 2]),
      [spec.inputs.values]: new ort.Tensor('int64', values, [n]),
    };
  }
  const rows = batch.length;
  let seq = 0;
  for (const ids of batch) seq = Math.max(seq, ids.length + 2);
  const inputIds = new BigInt64Array(rows * seq);
  const mask = new BigInt64Array(rows * seq);
  const types = new BigInt64Array(rows * seq);
  batch.forEach((ids, row) => {
    const o = row * seq;
    inputIds[o] = BigInt(spec.cls);
    ids.forEach((id, p) => { inputIds[o + p + 1] = BigInt(id); });
    inputIds[o + ids.length + 1] = BigInt(spec.sep);
    for (let p = 0; p < ids.length + 2; p++) mask[o + p] = 1n;
  });
  const feeds = {
    [spec.inputs.input_ids]: new ort.Tensor('int64', inputIds, [rows, seq]),
    [spec.inputs.attention_mask]: new ort.Tensor('int64', mask, [rows, seq]),
  };
  if (session.inputNames.includes(spec.inputs.token_type_ids)) {
    feeds[spec.inputs.token_type_ids] = new ort.Tensor('int64', types, [rows, seq]);
  }
  return feeds;
}

const feeds = spec.batches.map(feedsOf);
let windows = 0;
let tokens = 0;
for (const b of spec.batches) { windows += b.length; for (const ids of b) tokens += ids.length; }

// Warm-up: the first run pays one-off allocations in the runtime (the C# side warms up too). Off (spec.warmup false)
// for the whole-process comparison (bench embed-process), where start-up is part of what is measured.
if (spec.warmup !== false) {
  await session.run(feeds[feeds.length - 1], [spec.output]);
}

const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
for (const f of feeds) {
  await session.run(f, [spec.output]);
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
const cpu_seconds = (cpu.user + cpu.system) / 1e6;
console.log(JSON.stringify({ seconds, cpu_seconds, runs: feeds.length, windows, tokens, runtime_version: ort.env.versions?.common ?? 'unknown' }));
