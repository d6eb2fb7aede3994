// Helpers for the executor tests: a busybox root filesystem and running one command in it.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "dockwright/exec/container.hpp"
#include "layer_support.hpp"

namespace dockwright::test {

inline constexpr const char* busybox_path = "/bin/busybox";

/// Why the namespace tests cannot run here, or empty when they can.
inline std::string exec_skip_reason() {
    if (::access(busybox_path, X_OK) != 0)
        return "/bin/busybox is missing (install Debian's busybox-static)";
    return "";
}

/// Warns and returns true when the namespace tests cannot run here.
inline bool skip_exec() {
    const auto reason = exec_skip_reason();
    if (reason.empty()) return false;
    WARN("skipped: " << reason);
    return true;
}

/// Returns the applet names of /bin/busybox, from `busybox --list`.
inline std::vector<std::string> busybox_applets() {
    std::vector<std::string> names;
    FILE* pipe = ::popen("/bin/busybox --list", "r");
    if (pipe == nullptr) return names;
    char line[256];
    while (std::fgets(line, sizeof line, pipe) != nullptr) {
        std::string name = line;
        while (!name.empty() && name.back() == '\n')
            name.pop_back();
        if (!name.empty() && name != "busybox") names.push_back(name);
    }
    ::pclose(pipe);
    return names;
}

/// Fills a lower directory with busybox, its applets as symlinks in /bin, and passwd/group files
/// with root, app (1000) and www-data (33).
inline void make_busybox_layer(const std::filesystem::path& root) {
    namespace fs = std::filesystem;
    for (const char* dir :
         {"bin", "etc", "tmp", "root", "home", "home/app", "usr", "usr/bin", "var"})
        fs::create_directories(root / dir);
    fs::permissions(root / "tmp", fs::perms(01777));
    fs::permissions(root / "root", fs::perms(0700));
    fs::copy_file(busybox_path, root / "bin/busybox");
    fs::permissions(root / "bin/busybox", fs::perms(0755));
    for (const auto& name : busybox_applets()) {
        std::error_code ignored;
        fs::create_symlink("busybox", root / "bin" / name, ignored);
    }
    write_text(root / "etc/passwd",
               "root:x:0:0:root:/root:/bin/sh\n"
               "www-data:x:33:33:www-data:/var/www:/bin/sh\n"
               "app:x:1000:1000:app:/home/app:/bin/sh\n");
    write_text(root / "etc/group",
               "root:x:0:\nwww-data:x:33:\napp:x:1000:\nstaff:x:50:app\nextra:x:2000:other,app\n");
    ::chown((root / "home/app").c_str(), 1000, 1000);
}

/// A busybox lower layer plus fresh upper and work directories, all in one temporary dir.
struct exec_fixture {
    temp_dir dir;
    std::filesystem::path lower = dir / "lower";
    std::filesystem::path state = dir / "state";

    exec_fixture() {
        std::filesystem::create_directories(lower);
        make_busybox_layer(lower);
    }

    /// Returns a spec running `/bin/sh -c script` over the busybox layer with fresh upper/work
    /// dirs.
    exec::run_spec shell(const std::string& script, const std::string& name = "run") {
        std::filesystem::create_directories(dir / name / "upper");
        std::filesystem::create_directories(dir / name / "work");
        exec::run_spec spec;
        spec.lower_dirs = {lower};
        spec.upper_dir = dir / name / "upper";
        spec.work_dir = dir / name / "work";
        spec.argv = {"/bin/sh", "-c", script};
        spec.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
        return spec;
    }
};

/// What one run printed and returned.
struct run_output {
    exec::run_result result;
    std::string out;
    std::string err;
    std::string notices;
};

/// Runs the spec in a container under `state` and collects its output.
inline run_output run_container(exec::container& box, const exec::cancel_token* cancel = nullptr) {
    run_output output;
    output.result = box.run(
        [&](exec::output_stream stream, std::string_view line) {
            auto& target = stream == exec::output_stream::out   ? output.out
                           : stream == exec::output_stream::err ? output.err
                                                                : output.notices;
            target.append(line);
            target += '\n';
        },
        cancel);
    return output;
}

inline run_output run_spec_once(const exec::run_spec& spec, const std::filesystem::path& state) {
    exec::container box(spec, state);
    return run_container(box);
}

}  // namespace dockwright::test
