// Private: the code that runs inside the new namespaces, from clone(2) to execve(2).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace dockwright::exec::detail {

/// One setrlimit(2) call.
struct rlimit_entry {
    const char* name = nullptr;  ///< the --ulimit name, for the error message
    int resource = 0;
    std::uint64_t soft = 0;
    std::uint64_t hard = 0;
};

/// A host file or device bind-mounted onto a path inside the root.
struct bind_entry {
    const char* source = nullptr;  ///< absolute host path
    const char* target = nullptr;  ///< relative to the container's root
};

/// A RUN --mount: a bind mount (fstype null) or a tmpfs onto a path inside the root.
struct mount_entry {
    const char* source = nullptr;  ///< host path, or "tmpfs"
    const char* target = nullptr;  ///< relative to the container's root
    const char* fstype = nullptr;  ///< null for a bind mount
    const char* data = nullptr;
    bool readonly = true;
    bool file = false;  ///< the target is created as an empty file instead of a directory
};

/// Everything the child needs, prepared by the parent before clone(2). The child runs in a
/// copy of a possibly multi-threaded process, so it must not allocate: every string and array
/// here is built in advance and only read.
struct child_plan {
    int sync_fd = -1;   ///< read end: the parent sends one byte once the id maps are written
    int error_fd = -1;  ///< write end: a setup_failure record when a step fails
    int stdin_fd = -1;
    int stdout_fd = -1;
    int stderr_fd = -1;

    const char* rootfs = nullptr;           ///< empty directory to mount the root on
    const char* overlay_options = nullptr;  ///< null: bind-mount `copy_root` instead
    const char* copy_root = nullptr;
    bool new_network = true;
    const bind_entry* etc_binds = nullptr;  ///< /etc/hosts, /etc/hostname, /etc/resolv.conf
    std::size_t etc_bind_count = 0;
    const mount_entry* mounts = nullptr;
    std::size_t mount_count = 0;
    const char* shm_options = nullptr;  ///< tmpfs data for /dev/shm
    const char* hostname = nullptr;
    const char* working_dir = nullptr;  ///< absolute inside the container

    char* const* argv = nullptr;
    char* const* envp = nullptr;
    const char* path = nullptr;  ///< the container's PATH for looking up argv[0]

    uid_t uid = 0;
    gid_t gid = 0;
    const gid_t* groups = nullptr;
    std::size_t group_count = 0;
    bool set_groups = true;  ///< false in a single-id map, where setgroups(2) is denied
    const rlimit_entry* rlimits = nullptr;
    std::size_t rlimit_count = 0;
};

/// The record the child writes to `error_fd` when setup fails.
struct setup_failure {
    enum kind_type : int { step_failed = 0, overlay_failed = 1, not_found = 2 };
    int kind = step_failed;
    int error_number = 0;
    char step[96] = {};
    char subject[256] = {};  ///< the path or name the step was about, may be empty
};

/// The child's entry point after clone(2): sets up the mounts, pivots into the root, then
/// becomes the container's init and starts the command. Never returns.
[[noreturn]] void run_child(const child_plan& plan) noexcept;

}  // namespace dockwright::exec::detail
