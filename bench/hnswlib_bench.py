#!/usr/bin/env python3
"""hnswlib side of `Embeddings.Bench hnsw`: same vectors, same M/efConstruction, recall@10 and q/s.

usage: hnswlib_bench.py VECTORS.bin TRUTH.bin M EF_CONSTRUCTION THREADS EF1,EF2,...
VECTORS.bin: int32 n, nq, dim, then (n + nq) x dim float32 (little-endian), queries last.
TRUTH.bin: int32 nq, then nq x 10 int32 exact neighbour ids.
Prints progress lines, then one JSON line with buildSeconds, memoryMiB and rows.
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
    vectors_file, truth_file, m, efc, threads, efs = sys.argv[1:7]
    m, efc, threads = int(m), int(efc), int(threads)
    efs = [int(x) for x in efs.split(",")]
    header = np.fromfile(vectors_file, dtype="<i4", count=3)
    n, nq, dim = (int(x) for x in header)
    allv = np.fromfile(vectors_file, dtype="<f4", offset=12).reshape(n + nq, dim)
    data, queries = allv[:n], np.ascontiguousarray(allv[n:])
    truth = np.fromfile(truth_file, dtype="<i4", offset=4).reshape(nq, 10)

    rss_before = rss_mib()
    index = hnswlib.Index(space="ip", dim=dim)
    index.init_index(max_elements=n, ef_construction=efc, M=m, random_seed=100)
    index.set_num_threads(threads)
    t = time.perf_counter()
    c = time.process_time()
    index.add_items(data, np.arange(n), num_threads=threads)
    build = time.perf_counter() - t
    build_cpu = time.process_time() - c
    mem = rss_mib() - rss_before
    print(f"build {build:.2f} s ({build_cpu:.1f} CPU s), RSS +{mem:.0f} MiB")

    rows = []
    for ef in efs:
        index.set_ef(ef)
        index.knn_query(queries[:100], k=10, num_threads=1)
        t = time.perf_counter()
        c = time.process_time()
        labels, _ = index.knn_query(queries, k=10, num_threads=1)
        qps1 = nq / (time.perf_counter() - t)
        qps_cpu = nq / (time.process_time() - c)
        t = time.perf_counter()
        index.knn_query(queries, k=10, num_threads=threads)
        qps_all = nq / (time.perf_counter() - t)
        found = sum(len(set(labels[i]).intersection(truth[i])) for i in range(nq))
        recall = found / float(truth.size)
        rows.append({"ef": ef, "recall": recall, "qps1": qps1, "qpsAll": qps_all, "qpsCpu": qps_cpu})
        print(f"ef={ef:4d}: recall@10 {recall:.4f} {qps1:9.0f} q/s (1 thread; {qps_cpu:.0f} per CPU s) {qps_all:9.0f} q/s ({threads} threads)")
    print(json.dumps({"buildSeconds": build, "buildCpuSeconds": build_cpu, "memoryMiB": mem, "rows": rows}))


if __name__ == "__main__":
    main()
