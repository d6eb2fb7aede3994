// Parses a Dockerfile repeatedly and reports throughput in MB/s and the process's peak memory.
// Usage: parse_bench FILE [SECONDS]
#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <dockwright/dockerfile/parser.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

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
    std::size_t runs = 0;
    std::size_t instructions = 0;
    while (std::chrono::duration<double>(clock::now() - start).count() < seconds) {
        instructions = dockwright::parse_dockerfile(text).children.size();
        ++runs;
    }
    const double elapsed = std::chrono::duration<double>(clock::now() - start).count();

    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const double megabytes = static_cast<double>(text.size()) * static_cast<double>(runs) / 1e6;
    std::cout << "input: " << text.size() << " bytes, " << instructions << " instructions\n"
              << "runs: " << runs << " in " << elapsed << " s\n"
              << "throughput: " << megabytes / elapsed << " MB/s\n"
              << "peak RSS: " << static_cast<double>(usage.ru_maxrss) / 1024.0 << " MiB\n";
    return 0;
}
