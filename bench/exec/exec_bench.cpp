// Per-RUN overhead of the executor: `RUN true` from container creation until its (empty) layer
// is written, against `unshare --user --map-root-user --mount --pid --fork true` in the same
// process. Usage: exec_bench [runs] [none|host] [overlay|copy] [shared|fresh]
//
// `shared` (the default) hands every container one shared_namespaces, as a build does; `fresh`
// lets each container create its own user and network namespaces. Upper and work directories
// go to /dev/shm when it is a tmpfs, where the local build backend puts them. The state
// directory is beside the executor's default one, on the same file system.
#include <spawn.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "dockwright/exec/container.hpp"
#include "dockwright/exec/shared_namespaces.hpp"

namespace fs = std::filesystem;
using namespace dockwright;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr long tmpfs_magic = 0x01021994;

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

double percentile_ms(std::vector<double> values, double fraction) {
    std::sort(values.begin(), values.end());
    return values[static_cast<std::size_t>(fraction * static_cast<double>(values.size() - 1))];
}

double elapsed_ms(clock_type::time_point since) {
    return std::chrono::duration<double, std::milli>(clock_type::now() - since).count();
}

/// CPU time (user + system) of this process and its reaped children, in milliseconds.
double cpu_ms() {
    double total = 0;
    for (const int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
        rusage usage{};
        ::getrusage(who, &usage);
        for (const timeval& time : {usage.ru_utime, usage.ru_stime})
            total +=
                static_cast<double>(time.tv_sec) * 1e3 + static_cast<double>(time.tv_usec) / 1e3;
    }
    return total;
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
    return elapsed_ms(started);
}

/// Milliseconds of each phase of one RUN.
struct timing {
    double create = 0;      ///< the container's constructor
    double run = 0;         ///< run(): namespaces, mounts, the command, teardown
    double layer = 0;       ///< write_layer() of the empty diff
    double diff_ready = 0;  ///< create + run + layer
    double total = 0;       ///< plus the destructor (state directory removed)
    double cpu = 0;         ///< CPU time of the builder and its reaped children
};

struct bench_setup {
    fs::path base;
    fs::path scratch;
    fs::path state;
    exec::network_mode network = exec::network_mode::none;
    exec::rootfs_mode rootfs = exec::rootfs_mode::overlay;
    std::shared_ptr<exec::shared_namespaces> namespaces;
};

timing run_once(const bench_setup& setup, int index) {
    const fs::path dir = setup.scratch / ("run" + std::to_string(index));
    fs::create_directories(dir / "upper");
    fs::create_directories(dir / "work");
    exec::run_spec spec;
    spec.lower_dirs = {setup.base};
    spec.upper_dir = dir / "upper";
    spec.work_dir = dir / "work";
    spec.argv = {"/bin/sh", "-c", "true"};
    spec.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
    spec.network = setup.network;
    spec.rootfs = setup.rootfs;
    spec.namespaces = setup.namespaces;
    const double cpu_before = cpu_ms();
    const auto started = clock_type::now();
    timing elapsed;
    {
        exec::container box(spec, setup.state);
        elapsed.create = elapsed_ms(started);
        const auto result = box.run({});
        elapsed.run = elapsed_ms(started) - elapsed.create;
        layer::string_sink sink;
        box.write_layer(sink);
        elapsed.diff_ready = elapsed_ms(started);
        elapsed.layer = elapsed.diff_ready - elapsed.create - elapsed.run;
        if (result.exit_code != 0)
            std::fprintf(stderr, "run %d exited %d\n", index, result.exit_code);
    }
    elapsed.total = elapsed_ms(started);
    elapsed.cpu = cpu_ms() - cpu_before;
    fs::remove_all(dir);
    return elapsed;
}

void print_row(const char* label, const std::vector<double>& values) {
    std::printf("%-58s median %7.2f ms  p90 %7.2f ms\n", label, percentile_ms(values, 0.5),
                percentile_ms(values, 0.9));
}

}  // namespace

int main(int argc, char** argv) {
    const int runs = argc > 1 ? std::atoi(argv[1]) : 100;
    const std::string network = argc > 2 ? argv[2] : "none";
    const std::string rootfs = argc > 3 ? argv[3] : "overlay";
    const std::string sharing = argc > 4 ? argv[4] : "shared";

    struct statfs shm {};
    const bool shm_is_tmpfs = ::statfs("/dev/shm", &shm) == 0 && shm.f_type == tmpfs_magic;
    std::string pattern =
        (shm_is_tmpfs ? "/dev/shm" : "/tmp") + std::string("/dw-exec-bench-XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) return 1;
    bench_setup setup;
    setup.scratch = pattern;
    setup.base = setup.scratch / "base";
    setup.state =
        exec::default_state_dir().parent_path() / ("exec-bench-" + std::to_string(::getpid()));
    setup.network = network == "host" ? exec::network_mode::host : exec::network_mode::none;
    setup.rootfs = rootfs == "copy" ? exec::rootfs_mode::copy : exec::rootfs_mode::overlay;
    if (sharing == "shared") setup.namespaces = std::make_shared<exec::shared_namespaces>();
    make_rootfs(setup.base);

    std::vector<double> create, run, layer, diff_ready, total, cpu, baseline;
    run_once(setup, -1);  // warm-up, which also creates the shared namespaces
    for (int i = 0; i < runs; ++i) {
        // Interleaved, so both see the same machine load.
        const timing measured = run_once(setup, i);
        create.push_back(measured.create);
        run.push_back(measured.run);
        layer.push_back(measured.layer);
        diff_ready.push_back(measured.diff_ready);
        total.push_back(measured.total);
        cpu.push_back(measured.cpu);
        baseline.push_back(unshare_once());
    }
    fs::remove_all(setup.scratch);
    fs::remove_all(setup.state);
    std::printf("runs %d, network %s, rootfs %s, namespaces %s, upper on %s, state in %s\n", runs,
                network.c_str(), rootfs.c_str(), sharing.c_str(), setup.scratch.c_str(),
                setup.state.parent_path().c_str());
    print_row("dockwright RUN true, start to diff ready", diff_ready);
    print_row("  container constructor", create);
    print_row("  run()", run);
    print_row("  write_layer()", layer);
    print_row("dockwright RUN true, plus state removal", total);
    print_row("dockwright RUN true, CPU time (user + system)", cpu);
    print_row("unshare --user --map-root-user --mount --pid --fork true", baseline);
    return 0;
}
