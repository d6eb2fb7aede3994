// Parses a Dockerfile repeatedly and reports throughput in MB/s and the process's peak memory.
// Throughput is given per wall-clock second and per second of the process's CPU time. On a
// machine shared with other jobs, only the CPU-time figure is stable.
// Usage: parse_bench FILE [SECONDS]
#include <sys/resource.h>
#include <time.h>  // clock_gettime, CLOCK_PROCESS_CPUTIME_ID (POSIX)

#include <chrono>
#include <cstdlib>
#include <dockwright/dockerfile/parser.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

namespace {

/// Returns the CPU time this process has used, in seconds.
double process_cpu_seconds() {
    timespec now{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: parse_bench FILE [SECONDS]\n";
        return 2;
    }
    std::ifstream in(argv[1], std::ios::binary);
    if (!in) {
        std::cerr << "parse_bench: cannot open " << argv[1] << '\n';
        return 1;
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();
    const double seconds = argc > 2 ? std::atof(argv[2]) : 3.0;

    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    const double cpu_start = process_cpu_seconds();
    std::size_t runs = 0;
    std::size_t instructions = 0;
    while (std::chrono::duration<double>(clock::now() - start).count() < seconds) {
        instructions = dockwright::parse_dockerfile(text).children.size();
        ++runs;
    }
    const double elapsed = std::chrono::duration<double>(clock::now() - start).count();
    const double cpu_elapsed = process_cpu_seconds() - cpu_start;

    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const double megabytes = static_cast<double>(text.size()) * static_cast<double>(runs) / 1e6;
    std::cout << "input: " << text.size() << " bytes, " << instructions << " instructions\n"
              << "runs: " << runs << " in " << elapsed << " s\n"
              << "throughput: " << megabytes / elapsed << " MB/s (wall clock), "
              << megabytes / cpu_elapsed << " MB/s (CPU time, " << cpu_elapsed << " s)\n"
              << "peak RSS: " << static_cast<double>(usage.ru_maxrss) / 1024.0 << " MiB\n";
    return 0;
}
