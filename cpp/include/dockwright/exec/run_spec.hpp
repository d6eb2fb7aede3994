// What a RUN step needs to execute: root filesystem layers, command, identity and limits.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dockwright::exec {

class shared_namespaces;

/// The network a container gets, as `docker build --network`.
enum class network_mode {
    /// A new network namespace with only the loopback interface, which is brought up.
    none,
    /// The builder's own network namespace.
    host,
};

/// How the root filesystem is assembled.
enum class rootfs_mode {
    /// overlayfs when the kernel allows it here, else a copy; the choice is reported.
    automatic,
    overlay,
    copy,
};

/// One resource limit of setrlimit(2), as `docker build --ulimit name=soft[:hard]`.
struct ulimit {
    std::string name;
    std::int64_t soft = 0;
    std::int64_t hard = 0;

    friend bool operator==(const ulimit&, const ulimit&) = default;
};

/// Parses `name=soft[:hard]` as Docker's --ulimit does (hard defaults to soft, -1 is
/// unlimited). Names: core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc,
/// rss, rtprio, rttime, sigpending, stack. Throws invalid_value_error (kind `ulimit`).
ulimit parse_ulimit(std::string_view text);

/// The resource limits of `docker build`. Zero or empty means not set. Sizes are bytes.
struct resource_limits {
    std::int64_t memory = 0;
    /// Memory plus swap; -1 is unlimited swap. Needs `memory`.
    std::int64_t memory_swap = 0;
    std::int64_t cpu_shares = 0;
    std::int64_t cpu_period = 0;  ///< microseconds
    std::int64_t cpu_quota = 0;   ///< microseconds per period
    std::string cpuset_cpus;
    std::string cpuset_mems;
    /// Parent cgroup: absolute from the hierarchy root, or relative to the builder's cgroup.
    /// Empty puts the container's cgroup beside the builder's, in `dockwright`.
    std::string cgroup_parent;
    std::int64_t pids_limit = 0;
    /// Size of the /dev/shm tmpfs; Docker's default is 64 MiB.
    std::int64_t shm_size = 64 * 1024 * 1024;
    std::vector<ulimit> ulimits;

    /// Whether any limit needs a cgroup.
    [[nodiscard]] bool needs_cgroup() const noexcept {
        return memory != 0 || memory_swap != 0 || cpu_shares != 0 || cpu_period != 0 ||
               cpu_quota != 0 || !cpuset_cpus.empty() || !cpuset_mems.empty() || pids_limit != 0 ||
               !cgroup_parent.empty();
    }
};

/// A mount added to the container for one RUN (`RUN --mount`), on top of the root.
struct extra_mount {
    enum class kind { bind, tmpfs };
    kind type = kind::bind;
    /// The host file or directory of a bind mount.
    std::filesystem::path source;
    /// Absolute path inside the container; created (as a directory, or an empty file when
    /// the source is a file) when missing.
    std::string target;
    bool readonly = true;
    /// tmpfs options, such as `size=65536k`.
    std::string options;
};

/// Everything one RUN needs.
struct run_spec {
    /// Unpacked parent layers, bottom first, as overlayfs lower directories: a whiteout is a
    /// 0/0 character device and an opaque directory has `trusted.overlay.opaque` or
    /// `user.overlay.opaque` set to "y".
    std::vector<std::filesystem::path> lower_dirs;
    /// Empty directories on one filesystem: the container's writable layer and overlayfs'
    /// work directory. In the copy fallback the upper directory contains the whole root copy.
    std::filesystem::path upper_dir;
    std::filesystem::path work_dir;

    /// The argv to execute; argv[0] is looked up in the container's PATH when it has no `/`.
    std::vector<std::string> argv;
    /// `NAME=value` entries of the command's environment.
    std::vector<std::string> env;
    /// USER: `name`, `uid`, `name:group` or `uid:gid`; empty is root.
    std::string user;
    /// WORKDIR, absolute inside the container; created when missing.
    std::string working_dir = "/";
    /// Empty: the first 12 hex digits of the container ID.
    std::string hostname;
    network_mode network = network_mode::none;
    rootfs_mode rootfs = rootfs_mode::automatic;
    resource_limits limits;
    /// Bind and tmpfs mounts for this run only; nothing below them reaches the layer.
    std::vector<extra_mount> mounts;
    /// Kills the container when it runs longer; zero is no timeout.
    std::chrono::milliseconds timeout{0};
    /// The user and network namespaces to join, shared by the containers of one build.
    /// Null: the container creates a set of its own, which costs more per run.
    std::shared_ptr<shared_namespaces> namespaces;
};

}  // namespace dockwright::exec
