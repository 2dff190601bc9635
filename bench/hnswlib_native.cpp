// Native hnswlib peer of `Embeddings.Bench hnsw`: hnswlib's own headers (Debian libhnswlib-dev), built by the
// benchmark with `g++ -O3 -march=native -std=c++17 -pthread`, driven over the same line protocol as the other
// peers (bench/hnswlib_bench.py, `Embeddings.Bench hnsw-peer`).
//
// usage: hnswlib_native VECTORS.f32 DIM QUERIES
//   VECTORS.f32: raw little-endian float32 rows of DIM floats; the last QUERIES rows are the queries.
// stdin, one command a line; each answered by one JSON line on stdout:
//   build M EF_CONSTRUCTION THREADS     -> {"buildSeconds", "buildCpuSeconds", "memoryMiB"}
//   search EF THREADS PASSES OUT.bin    -> {"seconds", "cpuSeconds"}; OUT.bin: QUERIES x 10 int32 ids of the last pass
//   quit
// Threads work as hnswlib's python binding does (ParallelFor: each thread takes the next row from a shared counter).
#include <hnswlib/hnswlib.h>

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

double now_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec * 1e-6 + usage.ru_stime.tv_sec + usage.ru_stime.tv_usec * 1e-6;
}

double rss_mib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return std::stod(line.substr(6)) / 1024.0;
        }
    }
    return 0.0;
}

template <typename Work>
void parallel_for(size_t count, int threads, Work work) {
    if (threads <= 1) {
        for (size_t i = 0; i < count; i++) {
            work(i);
        }
        return;
    }
    std::atomic<size_t> next(0);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; t++) {
        pool.emplace_back([&] {
            size_t i;
            while ((i = next.fetch_add(1)) < count) {
                work(i);
            }
        });
    }
    for (auto& thread : pool) {
        thread.join();
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: hnswlib_native VECTORS.f32 DIM QUERIES" << std::endl;
        return 2;
    }
    const size_t dim = std::stoul(argv[2]);
    const size_t nq = std::stoul(argv[3]);
    std::ifstream file(argv[1], std::ios::binary | std::ios::ate);
    if (!file) {
        std::cerr << "cannot open " << argv[1] << std::endl;
        return 1;
    }
    const size_t rows = static_cast<size_t>(file.tellg()) / (dim * sizeof(float));
    const size_t n = rows - nq;
    std::vector<float> all(rows * dim);
    file.seekg(0);
    file.read(reinterpret_cast<char*>(all.data()), static_cast<std::streamsize>(all.size() * sizeof(float)));
    const float* data = all.data();
    const float* queries = all.data() + n * dim;

    hnswlib::InnerProductSpace space(dim);
    std::unique_ptr<hnswlib::HierarchicalNSW<float>> index;
    std::string line;
    while (std::getline(std::cin, line)) {
        std::istringstream command(line);
        std::string verb;
        command >> verb;
        if (verb == "build") {
            size_t m = 16, efc = 200;
            int threads = 1;
            command >> m >> efc >> threads;
            index.reset();
            double rss = rss_mib();
            double t = now_seconds(), c = cpu_seconds();
            index = std::make_unique<hnswlib::HierarchicalNSW<float>>(&space, n, m, efc, 100);
            // The first point alone, as the python binding does, then the rest in parallel.
            index->addPoint(data, 0);
            parallel_for(n - 1, threads, [&](size_t i) { index->addPoint(data + (i + 1) * dim, i + 1); });
            double build = now_seconds() - t, build_cpu = cpu_seconds() - c;
            std::printf("{\"buildSeconds\": %.6f, \"buildCpuSeconds\": %.6f, \"memoryMiB\": %.3f}\n", build, build_cpu, rss_mib() - rss);
        } else if (verb == "search") {
            size_t ef = 10;
            int threads = 1, passes = 1;
            std::string out;
            command >> ef >> threads >> passes >> out;
            index->setEf(ef);
            std::vector<int> ids(nq * 10, -1);
            auto one = [&](size_t q) {
                auto result = index->searchKnn(queries + q * dim, 10);
                for (int j = static_cast<int>(result.size()) - 1; j >= 0; j--) {
                    ids[q * 10 + j] = static_cast<int>(result.top().second);
                    result.pop();
                }
            };
            parallel_for(std::min<size_t>(nq, 200), threads, one);
            double t = now_seconds(), c = cpu_seconds();
            for (int p = 0; p < passes; p++) {
                parallel_for(nq, threads, one);
            }
            double seconds = now_seconds() - t, cpu = cpu_seconds() - c;
            std::ofstream(out, std::ios::binary).write(reinterpret_cast<const char*>(ids.data()), static_cast<std::streamsize>(ids.size() * sizeof(int)));
            std::printf("{\"seconds\": %.6f, \"cpuSeconds\": %.6f}\n", seconds, cpu);
        } else if (verb == "quit") {
            break;
        } else {
            std::printf("{\"error\": \"unknown command %s\"}\n", verb.c_str());
        }
        std::fflush(stdout);
    }
    return 0;
}
