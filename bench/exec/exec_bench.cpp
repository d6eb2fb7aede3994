// Per-RUN overhead of the executor: `RUN true` from container creation until its (empty) layer
// is written, against `unshare --user --map-root-user --mount --pid --fork true` in the same
// process. Usage: exec_bench [runs] [none|host] [overlay|copy]
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "dockwright/exec/container.hpp"

namespace fs = std::filesystem;
using namespace dockwright;
using clock_type = std::chrono::steady_clock;

namespace {

/// Creates a busybox root in `root` with the applets the shell needs.
void make_rootfs(const fs::path& root) {
    for (const char* dir : {"bin", "etc", "tmp"})
        fs::create_directories(root / dir);
    fs::copy_file("/bin/busybox", root / "bin/busybox");
    for (const char* applet : {"sh", "true"})
        fs::create_symlink("busybox", root / "bin" / applet);
    std::FILE* passwd = std::fopen((root / "etc/passwd").c_str(), "w");
    std::fputs("root:x:0:0:root:/root:/bin/sh\n", passwd);
    std::fclose(passwd);
}

double median_ms(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

double percentile_ms(std::vector<double> values, double fraction) {
    std::sort(values.begin(), values.end());
    return values[static_cast<std::size_t>(fraction * static_cast<double>(values.size() - 1))];
}

double unshare_once() {
    const auto started = clock_type::now();
    char* argv[] = {const_cast<char*>("unshare"),
                    const_cast<char*>("--user"),
                    const_cast<char*>("--map-root-user"),
                    const_cast<char*>("--mount"),
                    const_cast<char*>("--pid"),
                    const_cast<char*>("--fork"),
                    const_cast<char*>("true"),
                    nullptr};
    pid_t pid = 0;
    if (posix_spawnp(&pid, "unshare", nullptr, nullptr, argv, environ) != 0) return -1;
    int status = 0;
    waitpid(pid, &status, 0);
    return std::chrono::duration<double, std::milli>(clock_type::now() - started).count();
}

struct timing {
    double diff_ready = 0;  ///< container created, command run, layer written
    double total = 0;       ///< plus the container's destructor (state directory removed)
};

timing run_once(const fs::path& base, const fs::path& scratch, int index, exec::network_mode net,
                exec::rootfs_mode mode) {
    const fs::path dir = scratch / ("run" + std::to_string(index));
    fs::create_directories(dir / "upper");
    fs::create_directories(dir / "work");
    exec::run_spec spec;
    spec.lower_dirs = {base};
    spec.upper_dir = dir / "upper";
    spec.work_dir = dir / "work";
    spec.argv = {"/bin/sh", "-c", "true"};
    spec.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
    spec.network = net;
    spec.rootfs = mode;
    const auto started = clock_type::now();
    timing elapsed;
    {
        exec::container box(spec, scratch / "state");
        const auto result = box.run({});
        layer::string_sink sink;
        box.write_layer(sink);
        elapsed.diff_ready =
            std::chrono::duration<double, std::milli>(clock_type::now() - started).count();
        if (result.exit_code != 0)
            std::fprintf(stderr, "run %d exited %d\n", index, result.exit_code);
    }
    elapsed.total = std::chrono::duration<double, std::milli>(clock_type::now() - started).count();
    fs::remove_all(dir);
    return elapsed;
}

}  // namespace

int main(int argc, char** argv) {
    const int runs = argc > 1 ? std::atoi(argv[1]) : 100;
    const auto net = argc > 2 && std::string(argv[2]) == "host" ? exec::network_mode::host
                                                                : exec::network_mode::none;
    const auto mode = argc > 3 && std::string(argv[3]) == "copy" ? exec::rootfs_mode::copy
                                                                 : exec::rootfs_mode::overlay;
    char pattern[] = "/tmp/dw-exec-bench-XXXXXX";
    if (mkdtemp(pattern) == nullptr) return 1;
    const fs::path scratch = pattern;
    make_rootfs(scratch / "base");

    std::vector<double> diff_ready, total, baseline;
    run_once(scratch / "base", scratch, -1, net, mode);  // warm-up
    for (int i = 0; i < runs; ++i) {
        // Interleaved, so both see the same machine load.
        const auto measured = run_once(scratch / "base", scratch, i, net, mode);
        diff_ready.push_back(measured.diff_ready);
        total.push_back(measured.total);
        baseline.push_back(unshare_once());
    }
    fs::remove_all(scratch);
    std::printf("runs %d, network %s, rootfs %s\n", runs, argc > 2 ? argv[2] : "none",
                mode == exec::rootfs_mode::copy ? "copy" : "overlay");
    std::printf("%-58s median %7.2f ms  p90 %7.2f ms\n", "dockwright RUN true, start to diff ready",
                median_ms(diff_ready), percentile_ms(diff_ready, 0.9));
    std::printf("%-58s median %7.2f ms  p90 %7.2f ms\n", "dockwright RUN true, plus state removal",
                median_ms(total), percentile_ms(total, 0.9));
    std::printf("%-58s median %7.2f ms  p90 %7.2f ms\n",
                "unshare --user --map-root-user --mount --pid --fork true", median_ms(baseline),
                percentile_ms(baseline, 0.9));
    return 0;
}
