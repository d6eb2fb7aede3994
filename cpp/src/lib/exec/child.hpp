// Private: the code that runs inside the new namespaces, from clone(2) to execve(2).
#pragma once

#include <linux/filter.h>
#include <sys/mman.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <new>

namespace dockwright::exec::detail {

/// A stack for clone(2), with an inaccessible guard page below it so that an overflow faults
/// instead of writing over other memory.
class stack_mapping {
  public:
    explicit stack_mapping(std::size_t size) : size_(size + guard_size) {
        void* memory = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (memory == MAP_FAILED) throw std::bad_alloc();
        base_ = static_cast<char*>(memory);
        ::mprotect(base_, guard_size, PROT_NONE);
    }
    stack_mapping(const stack_mapping&) = delete;
    stack_mapping& operator=(const stack_mapping&) = delete;
    ~stack_mapping() { ::munmap(base_, size_); }

    /// The highest address, where a downward-growing stack starts.
    [[nodiscard]] char* top() const noexcept { return base_ + size_; }

  private:
    static constexpr std::size_t guard_size = 4096;
    std::size_t size_;
    char* base_ = nullptr;
};

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

/// A file or directory of the init layer, which the child creates in its staging tmpfs.
struct init_node {
    const char* path = nullptr;  ///< relative to the init layer's root; parents come first
    bool directory = true;
    mode_t mode = 0755;
    bool set_owner = false;
    uid_t uid = 0;
    gid_t gid = 0;
};

/// A small file that the child writes into its staging tmpfs, to bind-mount into the root.
struct staged_file {
    const char* name = nullptr;  ///< file name inside the staging tmpfs
    const char* data = nullptr;
    std::size_t size = 0;
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

/// The result that the process joining the shared namespaces stores for the builder. That
/// process shares the builder's memory (CLONE_VM), so the builder reads this after it exited.
struct join_result {
    pid_t init_pid = -1;
    int error_number = 0;
    const char* step = nullptr;  ///< the step that failed, or null
};

/// Everything the child needs, prepared by the parent before clone(2). The child runs in a
/// copy of a possibly multi-threaded process, so it must not allocate: every string and array
/// here is built in advance and only read.
struct child_plan {
    /// Read end of a pipe whose write end only the builder holds. Init reads one byte from it
    /// when `wait_for_go` is set, else it only checks that the builder still keeps the write
    /// end open (the builder may have died before init asked for PR_SET_PDEATHSIG).
    int sync_fd = -1;
    int sync_write_fd = -1;  ///< the builder's end, closed in the child processes
    bool wait_for_go = false;
    int error_fd = -1;  ///< write end: a setup_failure record when a step fails
    int stdin_fd = -1;
    int stdout_fd = -1;
    int stderr_fd = -1;

    /// A directory of the host to mount the container's staging tmpfs on. The tmpfs contains
    /// `root` (where the root filesystem is mounted), `init` (the init layer, the topmost
    /// overlayfs lower directory) and the staged files. It is mounted only in the container's
    /// mount namespace, so none of it is written to the host's disk.
    const char* staging = nullptr;
    const staged_file* staged_files = nullptr;
    std::size_t staged_file_count = 0;
    const init_node* init_nodes = nullptr;  ///< only with `overlay_options`
    std::size_t init_node_count = 0;
    const char* rootfs = nullptr;           ///< `root` in the staging tmpfs
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

    /// Installed in the command process after no_new_privs; null: none.
    const sock_fprog* seccomp = nullptr;

    int user_ns_fd = -1;     ///< the shared user namespace, joined first
    int network_ns_fd = -1;  ///< the shared network namespace; -1 keeps the builder's
    /// CLONE_NEW* flags of the namespaces created for this container only.
    unsigned long namespace_flags = 0;
    /// Top of the stack the command process starts on (it shares init's memory until execve).
    char* command_stack = nullptr;
    join_result* joined = nullptr;
};

/// The record the child writes to `error_fd` when setup fails.
struct setup_failure {
    enum kind_type : int { step_failed = 0, overlay_failed = 1, not_found = 2 };
    int kind = step_failed;
    int error_number = 0;
    char step[96] = {};
    char subject[256] = {};  ///< the path or name the step was about, may be empty
};

/// The entry point of the short-lived process that the builder starts with clone(2) and
/// CLONE_VM | CLONE_VFORK, on a stack of its own, so that no page table is copied for it.
/// It joins the shared namespaces, clones the container's init into new namespaces as a
/// sibling (CLONE_PARENT, so that the builder waits for init itself), stores init's pid in
/// `plan->joined` and exits. `plan` is a child_plan.
int join_namespaces(void* plan) noexcept;

/// Runs the process that keeps the shared namespaces alive while the builder opens them.
/// After reading a byte from `go_fd` (sent once the id map is written), it creates a network
/// namespace, brings loopback up, writes an errno value (0: ready) to `report_fd` and waits
/// until `go_fd` reaches end of file.
[[noreturn]] void run_namespace_holder(int go_fd, int report_fd) noexcept;

}  // namespace dockwright::exec::detail
