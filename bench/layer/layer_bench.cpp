// Writes a layer from a directory and prints its throughput and the process's peak memory.
//
// Usage: layer_bench DIR OUTPUT none|gzip|zstd [LEVEL]
// Prints one line: kind, tar bytes, compressed bytes, seconds, MiB/s of tar data, peak RSS.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "dockwright/layer/layer_error.hpp"
#include "dockwright/layer/layer_writer.hpp"

namespace {

dockwright::layer::compression parse_kind(const std::string& name) {
    if (name == "gzip") return dockwright::layer::compression::gzip;
    if (name == "zstd") return dockwright::layer::compression::zstd;
    if (name == "none") return dockwright::layer::compression::none;
    throw std::invalid_argument("unknown compression '" + name + "': expected none, gzip, zstd");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: layer_bench DIR OUTPUT none|gzip|zstd [LEVEL]\n");
        return 2;
    }
    try {
        dockwright::layer::write_options options;
        options.compression.kind = parse_kind(argv[3]);
        if (argc > 4) options.compression.level = std::atoi(argv[4]);

        const int fd = ::open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            std::perror(argv[2]);
            return 1;
        }
        const auto start = std::chrono::steady_clock::now();
        dockwright::layer::fd_sink sink(fd);
        const auto info = dockwright::layer::write_tree_layer(argv[1], sink, options);
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        ::close(fd);

        rusage usage{};
        ::getrusage(RUSAGE_SELF, &usage);
        const double mib = static_cast<double>(info.tar_size) / (1024.0 * 1024.0);
        std::printf(
            "%s tar_bytes=%llu blob_bytes=%llu seconds=%.3f MiB/s=%.1f peak_rss_MiB=%.1f "
            "diff_id=%s\n",
            argv[3], static_cast<unsigned long long>(info.tar_size),
            static_cast<unsigned long long>(info.compressed_size), seconds, mib / seconds,
            static_cast<double>(usage.ru_maxrss) / 1024.0, info.diff_id.str().c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "layer_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
