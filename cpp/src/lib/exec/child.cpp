// The container side of a run: mounts, pivot_root, init as PID 1 and the command's execve.
// Everything here runs in a child created by clone(2) and may not allocate memory.
#include "child.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace dockwright::exec::detail {

namespace {

/// Docker's default capability set (moby's oci/caps defaults, unchanged since Docker 1.x).
constexpr std::array<int, 14> default_capabilities{
    CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,           CAP_FOWNER,
    CAP_MKNOD,   CAP_NET_RAW,      CAP_SETGID,           CAP_SETUID,
    CAP_SETFCAP, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
    CAP_KILL,    CAP_AUDIT_WRITE,
};

/// runc's default masked paths, as Docker 20.10 configures them.
constexpr std::array<const char*, 11> masked_paths{
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
};

/// runc's default read-only paths, as Docker 20.10 configures them.
constexpr std::array<const char*, 5> readonly_paths{
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

constexpr std::array<const char*, 6> device_names{"null",   "zero",    "full",
                                                  "random", "urandom", "tty"};

const child_plan* current_plan = nullptr;

/// Appends `text` to the fixed buffer at `used`, truncating at its end.
void append(char* buffer, std::size_t size, std::size_t& used, const char* text) {
    while (*text != '\0' && used + 1 < size)
        buffer[used++] = *text++;
    buffer[used] = '\0';
}

/// Reports a failed step (with errno) to the parent and exits.
[[noreturn]] void fail(const char* step, const char* subject = nullptr,
                       int kind = setup_failure::step_failed) {
    setup_failure record;
    record.kind = kind;
    record.error_number = errno;
    std::size_t used = 0;
    append(record.step, sizeof record.step, used, step);
    used = 0;
    if (subject != nullptr) append(record.subject, sizeof record.subject, used, subject);
    [[maybe_unused]] const auto written = ::write(current_plan->error_fd, &record, sizeof record);
    ::_exit(127);
}

/// Writes "/proc/self/fd/<fd>" into `buffer`.
const char* fd_path(char (&buffer)[32], int fd) {
    char digits[12];
    int count = 0;
    do {
        digits[count++] = static_cast<char>('0' + fd % 10);
        fd /= 10;
    } while (fd > 0);
    std::size_t used = 0;
    append(buffer, sizeof buffer, used, "/proc/self/fd/");
    while (count > 0 && used + 1 < sizeof buffer)
        buffer[used++] = digits[--count];
    buffer[used] = '\0';
    return buffer;
}

/// Opens `path` beneath the directory `root_fd`, resolving symlinks as if `root_fd` were `/`,
/// so a hostile image cannot point a mount target outside its root.
int open_in_root(int root_fd, const char* path, int flags) {
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    return static_cast<int>(::syscall(SYS_openat2, root_fd, path, &how, sizeof how));
}

/// Mounts onto `target` inside the root through an O_PATH descriptor of it.
void mount_in_root(int root_fd, const char* source, const char* target, const char* type,
                   unsigned long flags, const char* data) {
    const int target_fd = open_in_root(root_fd, target, O_PATH);
    if (target_fd < 0) fail("open mount target", target);
    char path[32];
    if (::mount(source, fd_path(path, target_fd), type, flags, data) != 0) fail("mount", target);
    ::close(target_fd);
}

/// Remounts a bind mount read-only, keeping the flags the kernel locks in a user namespace.
int remount_readonly(const char* path) {
    struct statvfs info {};
    if (::statvfs(path, &info) != 0) return -1;
    unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;
    if ((info.f_flag & ST_NOSUID) != 0) flags |= MS_NOSUID;
    if ((info.f_flag & ST_NODEV) != 0) flags |= MS_NODEV;
    if ((info.f_flag & ST_NOEXEC) != 0) flags |= MS_NOEXEC;
    if ((info.f_flag & ST_NOATIME) != 0) flags |= MS_NOATIME;
    if ((info.f_flag & ST_NODIRATIME) != 0) flags |= MS_NODIRATIME;
    if ((info.f_flag & ST_RELATIME) != 0) flags |= MS_RELATIME;
    return ::mount(nullptr, path, nullptr, flags, nullptr);
}

void mount_dev(int root_fd, const child_plan& plan) {
    mount_in_root(root_fd, "tmpfs", "dev", "tmpfs", MS_NOSUID | MS_STRICTATIME,
                  "mode=755,size=65536k");
    const int dev_fd = open_in_root(root_fd, "dev", O_PATH | O_DIRECTORY);
    if (dev_fd < 0) fail("open /dev");
    for (const char* name : device_names) {
        // User namespaces cannot mknod devices, so the host's nodes are bind-mounted.
        const int node = ::openat(dev_fd, name, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
        if (node < 0) fail("create /dev node", name);
        ::close(node);
        char source[64] = "/dev/";
        std::size_t used = 5;
        append(source, sizeof source, used, name);
        char target[32];
        const int target_fd = ::openat(dev_fd, name, O_PATH | O_CLOEXEC | O_NOFOLLOW);
        if (target_fd < 0 ||
            ::mount(source, fd_path(target, target_fd), nullptr, MS_BIND, nullptr) != 0)
            fail("bind-mount", source);
        ::close(target_fd);
    }
    if (::mkdirat(dev_fd, "pts", 0755) != 0) fail("create /dev/pts");
    if (::mkdirat(dev_fd, "shm", 01777) != 0) fail("create /dev/shm");
    if (::mkdirat(dev_fd, "mqueue", 0755) != 0) fail("create /dev/mqueue");
    mount_in_root(root_fd, "devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                  "newinstance,ptmxmode=0666,mode=0620");
    mount_in_root(root_fd, "shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  plan.shm_options);
    mount_in_root(root_fd, "mqueue", "dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  nullptr);
    const std::array<std::array<const char*, 2>, 6> links{{
        {"pts/ptmx", "ptmx"},
        {"/proc/self/fd", "fd"},
        {"/proc/self/fd/0", "stdin"},
        {"/proc/self/fd/1", "stdout"},
        {"/proc/self/fd/2", "stderr"},
        {"/proc/kcore", "core"},
    }};
    for (const auto& [target, name] : links)
        if (::symlinkat(target, dev_fd, name) != 0) fail("create /dev link", name);
    ::close(dev_fd);
}

void mount_sys(int root_fd, const child_plan& plan) {
    const unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    if (plan.new_network) {
        mount_in_root(root_fd, "sysfs", "sys", "sysfs", flags | MS_RDONLY, nullptr);
        return;
    }
    // sysfs may only be mounted by the owner of the network namespace; share the host's.
    mount_in_root(root_fd, "/sys", "sys", nullptr, MS_BIND | MS_REC, nullptr);
}

/// Brings the loopback interface of the current network namespace up; returns 0 or an errno.
int bring_loopback_up() noexcept {
    const int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return errno;
    ifreq request{};
    std::memcpy(request.ifr_name, "lo", 3);
    int result = 0;
    if (::ioctl(sock, SIOCGIFFLAGS, &request) != 0) result = errno;
    request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP | IFF_RUNNING);
    if (result == 0 && ::ioctl(sock, SIOCSIFFLAGS, &request) != 0) result = errno;
    ::close(sock);
    return result;
}

/// Masks and write-protects the kernel interfaces a container must not touch (after pivot).
void protect_paths() {
    for (const char* path : masked_paths) {
        struct stat info {};
        if (::lstat(path, &info) != 0) continue;
        const int result = S_ISDIR(info.st_mode)
                               ? ::mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0")
                               : ::mount("/dev/null", path, nullptr, MS_BIND, nullptr);
        if (result != 0) fail("mask", path);
    }
    for (const char* path : readonly_paths) {
        struct stat info {};
        if (::lstat(path, &info) != 0) continue;
        if (::mount(path, path, nullptr, MS_BIND | MS_REC, nullptr) != 0 ||
            remount_readonly(path) != 0)
            fail("make read-only", path);
    }
    if (!current_plan->new_network && remount_readonly("/sys") != 0) fail("make read-only", "/sys");
}

/// Creates every missing directory of the absolute path `path`, as root, mode 0755.
void make_directories(const char* path) {
    char buffer[4096];
    std::size_t used = 0;
    append(buffer, sizeof buffer, used, path);
    for (std::size_t i = 1; i <= used; ++i) {
        if (buffer[i] != '/' && buffer[i] != '\0') continue;
        const char saved = buffer[i];
        buffer[i] = '\0';
        if (::mkdir(buffer, 0755) != 0 && errno != EEXIST) fail("create the working directory");
        buffer[i] = saved;
    }
}

/// Creates the mount point `target` (relative) inside the root, parents included, resolving
/// every component beneath the root.
void make_mount_point(int root_fd, const char* target, bool file) {
    char buffer[4096];
    std::size_t length = 0;
    while (target[length] != '\0' && length + 1 < sizeof buffer) {
        buffer[length] = target[length];
        ++length;
    }
    buffer[length] = '\0';
    for (std::size_t i = 0; i <= length; ++i) {
        if (buffer[i] != '/' && buffer[i] != '\0') continue;
        if (i == 0) continue;
        const char saved = buffer[i];
        buffer[i] = '\0';
        // The parent of this component, opened beneath the root.
        std::size_t slash = i;
        while (slash > 0 && buffer[slash - 1] != '/')
            --slash;
        const char* name = buffer + slash;
        int parent = -1;
        if (slash == 0) {
            parent = ::fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
        } else {
            buffer[slash - 1] = '\0';
            parent = open_in_root(root_fd, buffer, O_PATH | O_DIRECTORY);
            buffer[slash - 1] = '/';
        }
        if (parent < 0) fail("open the parent of mount target", target);
        const bool last = saved == '\0';
        if (last && file) {
            const int made =
                ::openat(parent, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0400);
            if (made < 0 && errno != EEXIST) fail("create mount target", target);
            if (made >= 0) ::close(made);
        } else if (::mkdirat(parent, name, 0755) != 0 && errno != EEXIST) {
            fail("create mount target", target);
        }
        ::close(parent);
        buffer[i] = saved;
    }
}

void mount_extra(int root_fd, const mount_entry& entry) {
    make_mount_point(root_fd, entry.target, entry.file);
    if (entry.fstype != nullptr) {
        mount_in_root(root_fd, entry.source, entry.target, entry.fstype, MS_NOSUID | MS_NODEV,
                      entry.data);
        return;
    }
    mount_in_root(root_fd, entry.source, entry.target, nullptr, MS_BIND | MS_REC, nullptr);
    if (entry.readonly) {
        const int target_fd = open_in_root(root_fd, entry.target, O_PATH);
        char path[32];
        if (target_fd < 0 || remount_readonly(fd_path(path, target_fd)) != 0)
            fail("remount read-only", entry.target);
        ::close(target_fd);
    }
}

/// Writes all of `size` bytes; returns false on an error.
bool write_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        const auto written = ::write(fd, data, size);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) return false;
        data += written;
        size -= static_cast<std::size_t>(written);
    }
    return true;
}

/// Mounts the staging tmpfs and fills it: the root's mount point, the staged files and, for
/// an overlayfs root, the init layer.
void make_staging(const child_plan& plan) {
    if (::mount("tmpfs", plan.staging, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                "mode=0755,size=1m") != 0)
        fail("mount the staging tmpfs on", plan.staging);
    const int staging = ::open(plan.staging, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (staging < 0) fail("open the staging tmpfs", plan.staging);
    if (::mkdirat(staging, "root", 0755) != 0) fail("create the root's mount point");
    for (std::size_t i = 0; i < plan.staged_file_count; ++i) {
        const staged_file& file = plan.staged_files[i];
        const int fd = ::openat(staging, file.name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 || ::fchmod(fd, 0644) != 0 || !write_all(fd, file.data, file.size))
            fail("write", file.name);
        ::close(fd);
    }
    if (plan.init_node_count > 0) {
        if (::mkdirat(staging, "init", 0755) != 0) fail("create the init layer");
        const int init = ::openat(staging, "init", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (init < 0) fail("open the init layer");
        for (std::size_t i = 0; i < plan.init_node_count; ++i) {
            const init_node& node = plan.init_nodes[i];
            if (node.directory) {
                if (::mkdirat(init, node.path, node.mode) != 0) fail("create", node.path);
            } else {
                const int fd =
                    ::openat(init, node.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, node.mode);
                if (fd < 0) fail("create", node.path);
                ::close(fd);
            }
            // The mode without the umask.
            if (::fchmodat(init, node.path, node.mode, 0) != 0)
                fail("change the mode of", node.path);
            if (node.set_owner &&
                ::fchownat(init, node.path, node.uid, node.gid, AT_SYMLINK_NOFOLLOW) != 0)
                fail("change the owner of", node.path);
        }
        ::close(init);
    }
    ::close(staging);
}

void set_up_root(const child_plan& plan) {
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        fail("make the mounts private");
    make_staging(plan);
    if (plan.overlay_options != nullptr) {
        if (::mount("overlay", plan.rootfs, "overlay", 0, plan.overlay_options) != 0)
            fail("mount overlay on", plan.rootfs, setup_failure::overlay_failed);
        // overlayfs falls back to read-only when it cannot use the work directory.
        struct statvfs info {};
        if (::statvfs(plan.rootfs, &info) == 0 && (info.f_flag & ST_RDONLY) != 0) {
            errno = EROFS;
            fail("mount overlay writable (check the work directory's owner) on", plan.rootfs);
        }
    } else if (::mount(plan.copy_root, plan.rootfs, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
        fail("bind-mount the root copy", plan.copy_root);
    }
    const int root_fd = ::open(plan.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) fail("open the root", plan.rootfs);

    mount_in_root(root_fd, "proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
    mount_dev(root_fd, plan);
    mount_sys(root_fd, plan);
    for (std::size_t i = 0; i < plan.etc_bind_count; ++i)
        mount_in_root(root_fd, plan.etc_binds[i].source, plan.etc_binds[i].target, nullptr, MS_BIND,
                      nullptr);
    for (std::size_t i = 0; i < plan.mount_count; ++i)
        mount_extra(root_fd, plan.mounts[i]);
    ::close(root_fd);

    if (::sethostname(plan.hostname, std::strlen(plan.hostname)) != 0) fail("set the hostname");

    // pivot_root with the old root stacked on the new one, then detached (as runc does).
    if (::chdir(plan.rootfs) != 0) fail("enter the root", plan.rootfs);
    if (::syscall(SYS_pivot_root, ".", ".") != 0) fail("pivot_root");
    if (::umount2(".", MNT_DETACH) != 0) fail("detach the old root");
    if (::chdir("/") != 0) fail("enter /");
    protect_paths();
    make_directories(plan.working_dir);
}

void drop_capabilities(bool keep_defaults) {
    std::uint64_t keep = 0;
    for (const int cap : default_capabilities)
        keep |= std::uint64_t{1} << cap;
    for (int cap = 0; cap <= 63; ++cap) {
        if ((keep & (std::uint64_t{1} << cap)) != 0) continue;
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
            fail("drop a capability from the bounding set");
    }
    ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    if (!keep_defaults) return;
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    for (int i = 0; i < 2; ++i) {
        const auto word = static_cast<std::uint32_t>(keep >> (32 * i));
        data[i].effective = word;
        data[i].permitted = word;
        data[i].inheritable = word;
    }
    if (::syscall(SYS_capset, &header, data) != 0) fail("set the capabilities");
}

/// execve(2) with argv[0] looked up in the container's PATH, as Go's exec.LookPath does.
[[noreturn]] void exec_command(const child_plan& plan) {
    const char* name = plan.argv[0];
    if (std::strchr(name, '/') != nullptr) {
        ::execve(name, plan.argv, plan.envp);
        fail("exec", name);
    }
    int first_error = ENOENT;
    const char* dirs = plan.path;
    while (*plan.path != '\0') {
        const char* end = std::strchr(dirs, ':');
        if (end == nullptr) end = dirs + std::strlen(dirs);
        char candidate[4096];
        std::size_t used = 0;
        for (const char* c = dirs; c < end && used + 1 < sizeof candidate; ++c)
            candidate[used++] = *c;
        if (used == 0) candidate[used++] = '.';
        candidate[used] = '\0';
        append(candidate, sizeof candidate, used, "/");
        append(candidate, sizeof candidate, used, name);
        ::execve(candidate, plan.argv, plan.envp);
        if (errno != ENOENT && errno != ENOTDIR && first_error == ENOENT) first_error = errno;
        if (*end == '\0') break;
        dirs = end + 1;
    }
    errno = first_error;
    if (first_error == ENOENT) fail("exec", name, setup_failure::not_found);
    fail("exec", name);
}

[[noreturn]] void start_command(const child_plan& plan) noexcept {
    sigset_t none;
    ::sigemptyset(&none);
    for (int sig = 1; sig < NSIG; ++sig)
        ::signal(sig, SIG_DFL);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (::dup2(plan.stdin_fd, 0) < 0 || ::dup2(plan.stdout_fd, 1) < 0 ||
        ::dup2(plan.stderr_fd, 2) < 0)
        fail("attach the standard streams");
    for (std::size_t i = 0; i < plan.rlimit_count; ++i) {
        const rlimit limit{plan.rlimits[i].soft, plan.rlimits[i].hard};
        if (::setrlimit(plan.rlimits[i].resource, &limit) != 0)
            fail("apply the ulimit", plan.rlimits[i].name);
    }
    drop_capabilities(false);
    // Raw system calls: glibc's wrappers would signal the builder's other threads, whose
    // bookkeeping this copy of its memory still contains, and take glibc's internal locks.
    if (plan.set_groups && ::syscall(SYS_setgroups, plan.group_count, plan.groups) != 0)
        fail("set the supplementary groups");
    if (::syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) != 0) fail("set the group id");
    if (::syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) != 0) fail("set the user id");
    if (plan.uid == 0) drop_capabilities(true);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("set no_new_privs");
    if (plan.seccomp != nullptr && ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, plan.seccomp) != 0)
        fail("install the seccomp filter");
    if (::chdir(plan.working_dir) != 0) fail("enter the working directory", plan.working_dir);
    // Only 0, 1, 2 and the close-on-exec error pipe survive; the pipe closes at execve.
    const unsigned error_fd = static_cast<unsigned>(plan.error_fd);
    if (error_fd > 3) ::syscall(SYS_close_range, 3U, error_fd - 1, 0U);
    ::syscall(SYS_close_range, error_fd + 1, ~0U, 0U);
    exec_command(plan);
}

/// Starts the command: the clone(2) entry of the command process.
int command_entry(void* plan) noexcept {
    start_command(*static_cast<const child_plan*>(plan));
}

/// PID 1: forwards signals to the command, reaps every child and exits with the command's
/// status (128 + signal when it was killed). The kernel then kills what is left.
[[noreturn]] void run_init(pid_t command) {
    ::syscall(SYS_close_range, 0U, ~0U, 0U);
    sigset_t all;
    ::sigfillset(&all);
    for (;;) {
        siginfo_t info{};
        const int sig = ::sigwaitinfo(&all, &info);
        if (sig < 0) continue;
        if (sig != SIGCHLD) {
            ::kill(command, sig);
            continue;
        }
        for (;;) {
            int status = 0;
            const pid_t pid = ::waitpid(-1, &status, WNOHANG);
            if (pid <= 0) break;
            if (pid != command) continue;
            if (WIFEXITED(status)) ::_exit(WEXITSTATUS(status));
            ::_exit(128 + WTERMSIG(status));
        }
    }
}

/// Runs init: sets up the root, starts the command and reaps until the command exits.
[[noreturn]] void run_child(const child_plan& plan) noexcept {
    current_plan = &plan;
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (plan.wait_for_go) {
        char go = 0;
        if (::read(plan.sync_fd, &go, 1) != 1 || go != 1) ::_exit(126);
    } else {
        // The builder may have died before PR_SET_PDEATHSIG took effect; its end of the
        // pipe closes only then.
        pollfd builder{plan.sync_fd, POLLIN, 0};
        if (::poll(&builder, 1, 0) < 0 || (builder.revents & POLLHUP) != 0) ::_exit(126);
    }
    ::close(plan.sync_fd);

    sigset_t all;
    ::sigfillset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    set_up_root(plan);

    // The command shares init's memory until execve (CLONE_VM | CLONE_VFORK, as posix_spawn
    // does), so its start copies no page table. Init waits meanwhile, and every signal stays
    // blocked in init, so nothing else runs on this memory.
    const int command = ::clone(command_entry, plan.command_stack, CLONE_VM | CLONE_VFORK | SIGCHLD,
                                const_cast<child_plan*>(&plan));
    if (command < 0) fail("fork the command");
    run_init(command);
}

}  // namespace

int join_namespaces(void* argument) noexcept {
    const auto& plan = *static_cast<const child_plan*>(argument);
    join_result& result = *plan.joined;
    // This process shares the builder's memory but has its own copy of the descriptors.
    // Closing its copy of the builder's pipe end lets init read end of file when the builder
    // dies.
    ::close(plan.sync_write_fd);
    if (::setns(plan.user_ns_fd, CLONE_NEWUSER) != 0) {
        result = {-1, errno, "join the user namespace"};
        ::_exit(1);
    }
    if (plan.network_ns_fd >= 0 && ::setns(plan.network_ns_fd, CLONE_NEWNET) != 0) {
        result = {-1, errno, "join the network namespace"};
        ::_exit(1);
    }
    ::close(plan.user_ns_fd);
    if (plan.network_ns_fd >= 0) ::close(plan.network_ns_fd);
    // A raw clone(2) without a new stack: init continues on this stack in its own copy of
    // the memory. glibc's fork() would run atfork handlers, which may take locks that
    // another thread of the builder held.
    const auto pid = static_cast<pid_t>(
        ::syscall(SYS_clone, plan.namespace_flags | CLONE_PARENT | SIGCHLD, 0, 0, 0, 0));
    if (pid == 0) run_child(plan);
    if (pid < 0) {
        result = {-1, errno, "clone the container's init"};
        ::_exit(1);
    }
    result = {pid, 0, nullptr};
    ::_exit(0);
}

void run_namespace_holder(int go_fd, int report_fd) noexcept {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    char go = 0;
    if (::read(go_fd, &go, 1) != 1) ::_exit(1);
    int result = 0;
    if (::unshare(CLONE_NEWNET) != 0)
        result = errno;
    else
        result = bring_loopback_up();
    [[maybe_unused]] const auto written = ::write(report_fd, &result, sizeof result);
    ::close(report_fd);
    while (::read(go_fd, &go, 1) > 0) {
    }
    ::_exit(0);
}

}  // namespace dockwright::exec::detail
