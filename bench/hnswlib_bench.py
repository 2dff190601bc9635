#!/usr/bin/env python3
"""Python hnswlib peer of `Embeddings.Bench hnsw` (Debian python3-hnswlib), same line protocol as
bench/hnswlib_native.cpp and `Embeddings.Bench hnsw-peer`.

usage: hnswlib_bench.py VECTORS.f32 DIM QUERIES
  VECTORS.f32: raw little-endian float32 rows of DIM floats; the last QUERIES rows are the queries.
stdin, one command a line; each answered by one JSON line on stdout:
  build M EF_CONSTRUCTION THREADS     -> {"buildSeconds", "buildCpuSeconds", "memoryMiB"}
  search EF THREADS PASSES OUT.bin    -> {"seconds", "cpuSeconds"}; OUT.bin: QUERIES x 10 int32 ids of the last pass
  quit
"""
import json
import sys
import time

import hnswlib
import numpy as np


def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def main():
    path, dim, nq = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    allv = np.fromfile(path, dtype="<f4").reshape(-1, dim)
    n = allv.shape[0] - nq
    data, queries = allv[:n], np.ascontiguousarray(allv[n:])
    index = None
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "build":
            m, efc, threads = int(words[1]), int(words[2]), int(words[3])
            index = None
            rss = rss_mib()
            t, c = time.perf_counter(), time.process_time()
            index = hnswlib.Index(space="ip", dim=dim)
            index.init_index(max_elements=n, ef_construction=efc, M=m, random_seed=100)
            index.add_items(data, np.arange(n), num_threads=threads)
            reply = {"buildSeconds": time.perf_counter() - t, "buildCpuSeconds": time.process_time() - c,
                     "memoryMiB": rss_mib() - rss}
        elif words[0] == "search":
            ef, threads, passes, out = int(words[1]), int(words[2]), int(words[3]), words[4]
            index.set_ef(ef)
            index.knn_query(queries[:200], k=10, num_threads=threads)
            t, c = time.perf_counter(), time.process_time()
            for _ in range(passes):
                labels, _ = index.knn_query(queries, k=10, num_threads=threads)
            reply = {"seconds": time.perf_counter() - t, "cpuSeconds": time.process_time() - c}
            labels.astype("<i4").tofile(out)
        elif words[0] == "quit":
            break
        else:
            reply = {"error": "unknown command " + words[0]}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
