// The parent side of a run: state directory, id maps, cgroups, output and teardown.
#include "dockwright/exec/container.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>

#include "child.hpp"
#include "dockwright/exec/exec_error.hpp"
#include "dockwright/exec/user.hpp"
#include "dockwright/layer/layer_writer.hpp"
#include "fd.hpp"
#include "limits.hpp"
#include "namespaces.hpp"
#include "rootfs.hpp"
#include "seccomp.hpp"

namespace dockwright::exec {

namespace fs = std::filesystem;
using detail::system_error;
using detail::unique_fd;

namespace detail {

pipe_pair make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw system_error("create a pipe", errno);
    // Keep pipe ends above 2, so that attaching the standard streams never overwrites one.
    for (int& fd : fds) {
        if (fd > 2) continue;
        const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
        ::close(fd);
        if (moved < 0) throw system_error("move a pipe descriptor", errno);
        fd = moved;
    }
    return {unique_fd(fds[0]), unique_fd(fds[1])};
}

void write_file(const std::string& path, std::string_view text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) throw system_error("write " + path, errno);
}

std::string read_small_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace detail

namespace {

/// Stack sizes of the processes that share memory with their parent until they exec or exit.
/// The joining process's stack becomes init's, which runs the mount setup on it.
constexpr std::size_t join_stack_size = 256 * 1024;
constexpr std::size_t command_stack_size = 256 * 1024;

constexpr const char* default_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Set once the kernel rejected an overlayfs root, so later runs go straight to the copy.
std::atomic<bool> overlay_unusable{false};

std::string random_id() {
    std::random_device device;
    std::string id;
    static constexpr char hex[] = "0123456789abcdef";
    for (int i = 0; i < 64; ++i)
        id += hex[device() % 16];
    return id;
}

/// Field 22 of /proc/<pid>/stat (start time in clock ticks), to tell a pid from its reuse.
std::string start_time(pid_t pid) {
    const std::string stat = detail::read_small_file("/proc/" + std::to_string(pid) + "/stat");
    const auto close = stat.rfind(')');
    if (close == std::string::npos) return "";
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    for (int index = 3; index <= 22 && fields >> field; ++index)
        if (index == 22) return field;
    return "";
}

std::string process_record(pid_t pid) {
    return std::to_string(pid) + " " + start_time(pid);
}

/// Returns the pid of a `<pid> <start time>` record if that process still runs.
std::optional<pid_t> live_process(const std::string& record) {
    std::istringstream fields(record);
    pid_t pid = 0;
    std::string started;
    if (!(fields >> pid >> started) || pid <= 0) return std::nullopt;
    if (start_time(pid) != started) return std::nullopt;
    return pid;
}

/// Replaces the entry of the same name or appends, as Docker merges environments.
void set_env(std::vector<std::string>& env, const std::string& entry, bool replace) {
    const auto name = entry.substr(0, entry.find('=') + 1);
    for (auto& existing : env) {
        if (!existing.starts_with(name)) continue;
        if (replace) existing = entry;
        return;
    }
    env.push_back(entry);
}

std::string layer_file(const std::vector<fs::path>& lower_dirs, const std::string& relative,
                       const fs::path& copy_root) {
    if (!copy_root.empty()) return detail::read_small_file((copy_root / relative).string());
    const auto path = detail::find_in_layers(lower_dirs, relative);
    return path ? detail::read_small_file(path->string()) : std::string();
}

std::string overlay_escape(const fs::path& path) {
    std::string escaped;
    for (const char c : path.string()) {
        if (c == ',')
            throw exec_error("mount overlay", "a layer path contains a comma: " + path.string());
        if (c == ':' || c == '\\') escaped += '\\';
        escaped += c;
    }
    return escaped;
}

/// The generated /etc/resolv.conf: the host's, without loopback name servers when the
/// container has its own network (they cannot be reached from there), else Google's as Docker uses.
std::string resolv_conf(network_mode network) {
    const std::string host = detail::read_small_file("/etc/resolv.conf");
    if (network == network_mode::host) return host;
    std::istringstream lines(host);
    std::string kept;
    bool has_server = false;
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("nameserver")) {
            const auto address = line.substr(line.find_first_not_of(" \t", 10));
            if (address.starts_with("127.") || address.starts_with("::1")) continue;
            has_server = true;
        }
        kept += line + "\n";
    }
    if (!has_server) kept += "nameserver 8.8.8.8\nnameserver 8.8.4.4\n";
    return kept;
}

std::string hosts_file(network_mode network, const std::string& hostname) {
    if (network == network_mode::host) return detail::read_small_file("/etc/hosts");
    return "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
           "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
           "ff02::2\tip6-allrouters\n127.0.1.1\t" +
           hostname + "\n";
}

}  // namespace

std::string failure_message(const std::vector<std::string>& command, int exit_code) {
    std::string joined;
    for (const auto& word : command)
        joined += (joined.empty() ? "" : " ") + word;
    return "The command '" + joined + "' returned a non-zero code: " + std::to_string(exit_code);
}

std::string describe_failure(const std::vector<std::string>& command, const run_result& result,
                             const resource_limits& limits) {
    std::string text = failure_message(command, result.exit_code);
    if (result.oom_killed)
        text += " (killed: out of memory under the memory limit of " +
                std::to_string(limits.memory) + " bytes)";
    else if (result.timed_out)
        text += " (killed: the timeout ran out)";
    else if (result.cancelled)
        text += " (killed: the build was cancelled)";
    return text;
}

fs::path default_state_dir() {
    if (const char* env = std::getenv("DOCKWRIGHT_EXEC_STATE"); env != nullptr && *env != '\0')
        return env;
    if (::geteuid() == 0) return "/run/dockwright/exec";
    if (const char* runtime = std::getenv("XDG_RUNTIME_DIR"); runtime != nullptr && *runtime)
        return fs::path(runtime) / "dockwright" / "exec";
    return "/tmp/dockwright-exec-" + std::to_string(::geteuid());
}

std::size_t clean_stale_state(const fs::path& state_dir) {
    std::error_code ignored;
    std::size_t cleaned = 0;
    for (const auto& entry : fs::directory_iterator(state_dir, ignored)) {
        const std::string dir = entry.path().string();
        if (!entry.is_directory(ignored) || entry.path().filename().string().size() != 64) continue;
        const std::string owner = detail::read_small_file(dir + "/owner");
        // A directory without an owner record is still being created; leave it.
        if (owner.empty() || live_process(owner)) continue;
        if (const auto init = live_process(detail::read_small_file(dir + "/pid")))
            ::kill(*init, SIGKILL);
        std::istringstream cgroups(detail::read_small_file(dir + "/cgroups"));
        for (std::string cgroup; std::getline(cgroups, cgroup);)
            if (!cgroup.empty()) detail::remove_cgroup(cgroup);
        // The executor mounts only inside the container's mount namespace, which dies with
        // its processes; a mount under the state directory here is a foreign leftover.
        std::istringstream mounts(detail::read_small_file("/proc/self/mountinfo"));
        for (std::string line; std::getline(mounts, line);) {
            std::istringstream fields(line);
            std::string id, parent, device, root, point;
            fields >> id >> parent >> device >> root >> point;
            if (point.starts_with(dir)) ::umount2(point.c_str(), MNT_DETACH);
        }
        fs::remove_all(entry.path(), ignored);
        ++cleaned;
    }
    return cleaned;
}

struct container::impl {
    run_spec spec;
    std::string id;
    fs::path state;
    exec_user user;
    std::string hostname;
    /// The contents of /etc/hostname, /etc/hosts and /etc/resolv.conf.
    std::array<std::string, 3> etc_files;
    rootfs_kind kind = rootfs_kind::overlay;
    bool copy_prepared = false;
    std::vector<std::string> created_mount_points;
    detail::tree_snapshot snapshot;
    std::unique_ptr<detail::cgroup_set> cgroups;
    bool ran = false;

    fs::path copy_root() const { return kind == rootfs_kind::copy ? spec.upper_dir : fs::path(); }

    void prepare_copy();
    run_result run_once(const output_callback& on_output, const cancel_token* cancel,
                        std::vector<std::string> warnings, bool& overlay_failed);
    void check_id_map(std::vector<std::string>& warnings) const;
    layer::layer_info write_layer_as_root(layer::byte_sink& out,
                                          const layer::write_options& options) const;
    layer::layer_info write_layer_here(layer::byte_sink& out,
                                       const layer::write_options& options) const;
};

container::container(run_spec spec, fs::path state_dir) : impl_(std::make_unique<impl>()) {
    auto& self = *impl_;
    self.spec = std::move(spec);
    if (self.spec.argv.empty()) throw exec_error("check the command", "the argv is empty");
    if (!self.spec.working_dir.starts_with('/'))
        throw exec_error("check the working directory",
                         "'" + self.spec.working_dir + "' is not absolute");
    if (self.spec.upper_dir.empty() || self.spec.work_dir.empty())
        throw exec_error("check the layers", "the upper and work directories are required");
    for (const auto& ulimit : self.spec.limits.ulimits)
        if (detail::rlimit_resource(ulimit.name) < 0)
            throw exec_error("apply the ulimit", "unknown ulimit type '" + ulimit.name + "'");

    if (!self.spec.namespaces) self.spec.namespaces = std::make_shared<shared_namespaces>();
    self.id = random_id();
    self.hostname = self.spec.hostname.empty() ? self.id.substr(0, 12) : self.spec.hostname;
    const bool want_copy = self.spec.rootfs == rootfs_mode::copy ||
                           (self.spec.rootfs == rootfs_mode::automatic && overlay_unusable);
    self.kind = want_copy ? rootfs_kind::copy : rootfs_kind::overlay;

    std::error_code error;
    fs::create_directories(state_dir, error);
    if (error)
        throw exec_error("create the state directory " + state_dir.string(), error.message());
    ::chmod(state_dir.c_str(), 0700);
    clean_stale_state(state_dir);
    self.state = state_dir / self.id;
    if (::mkdir(self.state.c_str(), 0700) != 0)
        throw system_error("create the state directory " + self.state.string(), errno);
    try {
        detail::write_file((self.state / "owner").string(), process_record(::getpid()));
        // The child writes these into its staging tmpfs.
        self.etc_files = {self.hostname + "\n", hosts_file(self.spec.network, self.hostname),
                          resolv_conf(self.spec.network)};
        if (self.kind == rootfs_kind::copy) self.prepare_copy();
        self.user = resolve_user(self.spec.user,
                                 layer_file(self.spec.lower_dirs, "etc/passwd", self.copy_root()),
                                 layer_file(self.spec.lower_dirs, "etc/group", self.copy_root()));
    } catch (...) {
        std::error_code ignored;
        fs::remove_all(self.state, ignored);
        throw;
    }
}

container::~container() {
    impl_->cgroups.reset();
    std::error_code ignored;
    fs::remove_all(impl_->state, ignored);
}

const std::string& container::id() const noexcept {
    return impl_->id;
}
const run_spec& container::spec() const noexcept {
    return impl_->spec;
}

void container::impl::prepare_copy() {
    if (copy_prepared) return;
    kind = rootfs_kind::copy;
    std::error_code ignored;
    for (const auto& entry : fs::directory_iterator(spec.upper_dir, ignored))
        fs::remove_all(entry.path(), ignored);
    detail::copy_layers(spec.lower_dirs, spec.upper_dir);
    // Mount points missing from the image are created in the copy and left out of the diff,
    // with their parent directory's times put back.
    created_mount_points.clear();
    for (const auto& point : detail::mount_points()) {
        const fs::path path = spec.upper_dir / point;
        if (fs::exists(fs::symlink_status(path))) continue;
        const fs::path parent = path.parent_path();
        fs::create_directories(parent);
        struct stat info {};
        ::stat(parent.c_str(), &info);
        if (point.starts_with("etc/")) {
            const unique_fd file(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0755));
            if (!file) throw system_error("create " + path.string(), errno);
        } else if (::mkdir(path.c_str(), 0755) != 0) {
            throw system_error("create " + path.string(), errno);
        }
        const timespec times[2] = {info.st_atim, info.st_mtim};
        ::utimensat(AT_FDCWD, parent.c_str(), times, 0);
        created_mount_points.push_back(point);
    }
    snapshot = detail::snapshot_tree(spec.upper_dir, {"proc", "sys", "dev"});
    copy_prepared = true;
}

/// Rejects a user that a single-id map cannot represent, and warns that the supplementary
/// groups are not set there.
void container::impl::check_id_map(std::vector<std::string>& warnings) const {
    if (spec.namespaces->id_map() != id_map_kind::single) return;
    if (user.uid != 0 || user.gid != 0)
        throw exec_error("map the user",
                         "user " + std::to_string(user.uid) + ":" + std::to_string(user.gid) +
                             " is outside the single-id map of a rootless container; install "
                             "newuidmap/newgidmap and add ranges to /etc/subuid and /etc/subgid");
    if (!user.groups.empty())
        warnings.push_back(
            "supplementary groups are not set: a single-id user namespace "
            "cannot call setgroups");
}

namespace {

/// Splits output into lines for the callback; keeps a partial last line until more arrives.
struct line_splitter {
    output_stream stream;
    std::string pending;

    void feed(std::string_view bytes, const output_callback& on_output) {
        pending.append(bytes);
        std::size_t start = 0;
        for (auto end = pending.find('\n'); end != std::string::npos;
             end = pending.find('\n', start)) {
            if (on_output) on_output(stream, std::string_view(pending).substr(start, end - start));
            start = end + 1;
        }
        pending.erase(0, start);
    }
    void finish(const output_callback& on_output) {
        if (!pending.empty() && on_output) on_output(stream, pending);
        pending.clear();
    }
};

}  // namespace

run_result container::impl::run_once(const output_callback& on_output, const cancel_token* cancel,
                                     std::vector<std::string> warnings, bool& overlay_failed) {
    const auto started = std::chrono::steady_clock::now();
    overlay_failed = false;

    // Everything the child reads is built here: it must not allocate.
    // The child mounts a tmpfs on the state directory in its own mount namespace and creates
    // the root's mount point, the init layer and the /etc files there.
    std::string overlay_options;
    std::vector<detail::init_entry> init_entries;
    if (kind == rootfs_kind::overlay) {
        init_entries = detail::init_layer_entries(spec.lower_dirs);
        overlay_options = "lowerdir=" + overlay_escape(state / "init");
        for (auto layer = spec.lower_dirs.rbegin(); layer != spec.lower_dirs.rend(); ++layer)
            overlay_options += ":" + overlay_escape(*layer);
        overlay_options += ",upperdir=" + overlay_escape(spec.upper_dir) +
                           ",workdir=" + overlay_escape(spec.work_dir) + ",userxattr,volatile";
        // NOTE: mount(2) takes at most one page of options, which limits the layer count.
        if (overlay_options.size() >= 4096)
            throw exec_error("mount overlay",
                             "the lower directory list is longer than 4095 "
                             "bytes; use shorter layer paths");
    }
    std::vector<detail::init_node> init_nodes;
    for (const auto& entry : init_entries) {
        detail::init_node node{entry.path.c_str(), entry.directory, entry.mode, false, 0, 0};
        if (entry.owner) {
            node.set_owner = true;
            node.uid = entry.owner->first;
            node.gid = entry.owner->second;
        }
        init_nodes.push_back(node);
    }
    const std::string staging = state.string();
    const std::string rootfs = (state / "root").string();
    const std::string copy_root_path = spec.upper_dir.string();
    const std::string hosts = (state / "hosts").string();
    const std::string hostname_file = (state / "hostname").string();
    const std::string resolv = (state / "resolv.conf").string();
    const detail::staged_file staged_files[] = {
        {"hostname", etc_files[0].data(), etc_files[0].size()},
        {"hosts", etc_files[1].data(), etc_files[1].size()},
        {"resolv.conf", etc_files[2].data(), etc_files[2].size()},
    };
    const detail::bind_entry etc_binds[] = {
        {hosts.c_str(), "etc/hosts"},
        {hostname_file.c_str(), "etc/hostname"},
        {resolv.c_str(), "etc/resolv.conf"},
    };
    const std::string shm_options =
        "mode=1777,size=" +
        std::to_string(spec.limits.shm_size > 0 ? spec.limits.shm_size : 64 * 1024 * 1024);

    std::vector<std::string> env{std::string("PATH=") + default_path, "HOSTNAME=" + hostname};
    for (const auto& entry : spec.env)
        set_env(env, entry, true);
    set_env(env, "HOME=" + user.home, false);
    std::string path_value;
    for (const auto& entry : env)
        if (entry.starts_with("PATH=")) path_value = entry.substr(5);
    std::vector<std::string> argv_storage = spec.argv;
    std::vector<char*> argv;
    for (auto& word : argv_storage)
        argv.push_back(word.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& entry : env)
        envp.push_back(entry.data());
    envp.push_back(nullptr);

    std::vector<detail::rlimit_entry> rlimits;
    for (const auto& limit : spec.limits.ulimits) {
        const auto value = [](std::int64_t v) {
            return v < 0 ? RLIM_INFINITY : static_cast<std::uint64_t>(v);
        };
        rlimits.push_back({limit.name.c_str(), detail::rlimit_resource(limit.name),
                           value(limit.soft), value(limit.hard)});
    }

    auto sync = detail::make_pipe();
    auto errors = detail::make_pipe();
    auto out = detail::make_pipe();
    auto err = detail::make_pipe();
    const unique_fd null_input(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!null_input) throw system_error("open /dev/null", errno);

    const auto& namespaces = spec.namespaces->get();
    check_id_map(warnings);

    detail::child_plan plan;
    plan.sync_fd = sync.read.get();
    plan.sync_write_fd = sync.write.get();
    plan.error_fd = errors.write.get();
    plan.stdin_fd = null_input.get();
    plan.stdout_fd = out.write.get();
    plan.stderr_fd = err.write.get();
    plan.staging = staging.c_str();
    plan.staged_files = staged_files;
    plan.staged_file_count = std::size(staged_files);
    plan.init_nodes = init_nodes.data();
    plan.init_node_count = init_nodes.size();
    plan.rootfs = rootfs.c_str();
    plan.overlay_options = kind == rootfs_kind::overlay ? overlay_options.c_str() : nullptr;
    plan.copy_root = copy_root_path.c_str();
    plan.new_network = spec.network == network_mode::none;
    plan.etc_binds = etc_binds;
    plan.etc_bind_count = std::size(etc_binds);
    std::vector<std::string> mount_strings;
    mount_strings.reserve(spec.mounts.size() * 3);
    std::vector<detail::mount_entry> mounts;
    for (const extra_mount& m : spec.mounts) {
        std::string target = m.target;
        while (!target.empty() && target.front() == '/')
            target.erase(0, 1);
        if (target.empty()) throw exec_error("mount", "a RUN mount cannot target /");
        mount_strings.push_back(m.type == extra_mount::kind::tmpfs ? "tmpfs" : m.source.string());
        const char* source = mount_strings.back().c_str();
        mount_strings.push_back(target);
        const char* target_text = mount_strings.back().c_str();
        mount_strings.push_back(m.options);
        const char* data = m.options.empty() ? nullptr : mount_strings.back().c_str();
        const bool file = m.type == extra_mount::kind::bind && !fs::is_directory(m.source);
        mounts.push_back({source, target_text,
                          m.type == extra_mount::kind::tmpfs ? "tmpfs" : nullptr, data,
                          m.readonly && m.type == extra_mount::kind::bind, file});
    }
    plan.mounts = mounts.data();
    plan.mount_count = mounts.size();
    plan.shm_options = shm_options.c_str();
    plan.hostname = hostname.c_str();
    plan.working_dir = spec.working_dir.c_str();
    plan.argv = argv.data();
    plan.envp = envp.data();
    plan.path = path_value.c_str();
    plan.uid = user.uid;
    plan.gid = user.gid;
    plan.groups = user.groups.data();
    plan.group_count = user.groups.size();
    // A single-id map denies setgroups(2).
    plan.set_groups = namespaces.map != id_map_kind::single;
    plan.rlimits = rlimits.data();
    plan.rlimit_count = rlimits.size();
    plan.seccomp = detail::seccomp_filter();

    if (spec.limits.needs_cgroup() && !cgroups)
        cgroups = std::make_unique<detail::cgroup_set>(spec.limits, id, warnings);
    if (cgroups) {
        std::string list;
        for (const auto& dir : cgroups->directories())
            list += dir + "\n";
        detail::write_file((state / "cgroups").string(), list);
    }
    for (const auto& warning : warnings)
        if (on_output) on_output(output_stream::notice, warning);

    plan.user_ns_fd = namespaces.user.get();
    plan.network_ns_fd = spec.network == network_mode::none ? namespaces.network.get() : -1;
    plan.namespace_flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
    // Without a cgroup, init starts at once; else it waits until it is in its cgroups.
    plan.wait_for_go = cgroups != nullptr;
    detail::join_result joined;
    plan.joined = &joined;
    const detail::stack_mapping join_stack(join_stack_size);
    const detail::stack_mapping command_stack(command_stack_size);
    plan.command_stack = command_stack.top();

    pid_t joiner = -1;
    {
        // The joining process shares this memory and starts with every signal blocked, so
        // no signal handler of the builder runs on its stack. This thread waits until it
        // exits (CLONE_VFORK).
        sigset_t all, previous;
        ::sigfillset(&all);
        ::pthread_sigmask(SIG_SETMASK, &all, &previous);
        joiner = ::clone(detail::join_namespaces, join_stack.top(),
                         CLONE_VM | CLONE_VFORK | SIGCHLD, &plan);
        const int clone_error = errno;
        ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
        if (joiner < 0) throw system_error("clone the container process", clone_error);
    }
    while (::waitpid(joiner, nullptr, 0) < 0 && errno == EINTR) {
    }
    if (joined.init_pid < 0)
        throw system_error(joined.step != nullptr ? joined.step : "start the container",
                           joined.error_number != 0 ? joined.error_number : ECHILD);
    const pid_t pid = joined.init_pid;

    // From here the child exists: every exit path kills and reaps it.
    struct reaper {
        pid_t pid;
        bool reaped = false;
        int status = 0;
        void wait() {
            while (!reaped) {
                if (::waitpid(pid, &status, 0) == pid || errno != EINTR) reaped = true;
            }
        }
        ~reaper() {
            if (reaped) return;
            ::kill(pid, SIGKILL);
            wait();
        }
    } child{pid};
    sync.read.reset();
    errors.write.reset();
    out.write.reset();
    err.write.reset();
    detail::write_file((state / "pid").string(), process_record(pid));
    const unique_fd process(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!process) throw system_error("open a pidfd for the container", errno);

    if (cgroups) {
        cgroups->add_process(pid);
        const char go = 1;
        if (::write(sync.write.get(), &go, 1) != 1)
            throw system_error("start the container", errno);
    }

    run_result result;
    result.rootfs = kind;
    line_splitter out_lines{output_stream::out, {}};
    line_splitter err_lines{output_stream::err, {}};
    std::optional<detail::setup_failure> failure;
    std::string failure_bytes;
    const auto deadline = started + spec.timeout;
    bool exited = false;
    while (out.read || err.read || errors.read || !exited) {
        std::vector<pollfd> fds;
        const auto add = [&](int fd) {
            if (fd >= 0) fds.push_back({fd, POLLIN, 0});
        };
        add(out.read.get());
        add(err.read.get());
        add(errors.read.get());
        add(exited ? -1 : process.get());
        add(cancel != nullptr && !result.cancelled ? cancel->fd() : -1);
        int timeout_ms = -1;
        if (spec.timeout.count() > 0 && !result.timed_out && !exited) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            timeout_ms = static_cast<int>(std::max<std::int64_t>(0, left.count()));
        }
        const int ready = ::poll(fds.data(), fds.size(), timeout_ms);
        if (ready < 0 && errno != EINTR) throw system_error("wait for the container", errno);
        if (ready == 0 && spec.timeout.count() > 0 && !exited) {
            result.timed_out = true;
            ::kill(pid, SIGKILL);
            continue;
        }
        for (const auto& entry : fds) {
            if (entry.revents == 0) continue;
            if (cancel != nullptr && entry.fd == cancel->fd()) {
                result.cancelled = true;
                ::kill(pid, SIGKILL);
                continue;
            }
            if (entry.fd == process.get()) {
                child.wait();
                exited = true;
                continue;
            }
            char buffer[65536];
            const auto size = ::read(entry.fd, buffer, sizeof buffer);
            if (size < 0 && errno == EINTR) continue;
            const bool ended = size <= 0;
            if (entry.fd == errors.read.get()) {
                if (ended) {
                    errors.read.reset();
                    continue;
                }
                failure_bytes.append(buffer, static_cast<std::size_t>(size));
                if (failure_bytes.size() >= sizeof(detail::setup_failure)) {
                    detail::setup_failure record;
                    std::memcpy(&record, failure_bytes.data(), sizeof record);
                    failure = record;
                    ::kill(pid, SIGKILL);
                }
                continue;
            }
            auto& lines = entry.fd == out.read.get() ? out_lines : err_lines;
            if (ended) {
                lines.finish(on_output);
                (entry.fd == out.read.get() ? out.read : err.read).reset();
                continue;
            }
            lines.feed(std::string_view(buffer, static_cast<std::size_t>(size)), on_output);
        }
    }
    child.wait();
    if (failure) {
        if (failure->kind == detail::setup_failure::overlay_failed) {
            overlay_failed = true;
            return result;
        }
        if (failure->kind == detail::setup_failure::not_found)
            throw exec_error("", std::string("exec: \"") + failure->subject +
                                     "\": executable file not found in $PATH");
        std::string step = failure->step;
        if (failure->subject[0] != '\0') step += std::string(" ") + failure->subject;
        throw system_error(step, failure->error_number);
    }
    const int status = child.status;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (cgroups) result.oom_killed = cgroups->oom_killed();
    result.warnings = std::move(warnings);
    result.duration = std::chrono::steady_clock::now() - started;
    return result;
}

run_result container::run(const output_callback& on_output, const cancel_token* cancel) {
    auto& self = *impl_;
    if (self.ran) throw exec_error("run the container", "a container runs only once");
    self.ran = true;
    bool overlay_failed = false;
    auto result = self.run_once(on_output, cancel, {}, overlay_failed);
    if (overlay_failed) {
        if (self.spec.rootfs == rootfs_mode::overlay)
            throw exec_error("mount overlay", "the kernel rejected the overlayfs root here");
        overlay_unusable = true;
        const std::string notice =
            "overlayfs is not available here; the root filesystem is a copy of the layers";
        self.prepare_copy();
        // The user was resolved from the layers, which the copy contains unchanged.
        result = self.run_once(on_output, cancel, {notice}, overlay_failed);
    }
    self.cgroups.reset();
    std::error_code ignored;
    fs::remove(self.state / "cgroups", ignored);
    return result;
}

layer::layer_info container::impl::write_layer_here(layer::byte_sink& out,
                                                    const layer::write_options& options) const {
    if (kind == rootfs_kind::overlay)
        return layer::write_overlay_layer(spec.upper_dir, out, options);
    auto changes = detail::compare_tree(snapshot, spec.upper_dir, created_mount_points,
                                        {"proc", "sys", "dev"});
    return layer::write_changes_layer(spec.upper_dir, std::move(changes), out, options);
}

/// Rootless: the files belong to host ids that the container saw as root and subordinate
/// ids, so the layer is written from a child in the build's user namespace, where stat(2)
/// reports the container's ids. The tar streams back through a pipe.
layer::layer_info container::impl::write_layer_as_root(layer::byte_sink& out,
                                                       const layer::write_options& options) const {
    const int user_namespace = spec.namespaces->get().user.get();
    auto data = detail::make_pipe();
    auto info = detail::make_pipe();
    const pid_t pid = ::fork();
    if (pid < 0) throw system_error("fork the layer writer", errno);
    if (pid == 0) {
        data.read.reset();
        info.read.reset();
        std::string report;
        if (::setns(user_namespace, CLONE_NEWUSER) != 0) {
            report = "E join the user namespace: " + std::string(std::strerror(errno));
        } else {
            try {
                layer::fd_sink sink(data.write.get());
                const auto written = write_layer_here(sink, options);
                report = "O " + written.diff_id.str() + " " + std::to_string(written.tar_size) +
                         " " + written.compressed_digest.str() + " " +
                         std::to_string(written.compressed_size) + " " +
                         std::to_string(static_cast<int>(written.kind));
            } catch (const std::exception& e) {
                report = std::string("E ") + e.what();
            }
        }
        data.write.reset();
        [[maybe_unused]] const auto sent = ::write(info.write.get(), report.data(), report.size());
        ::_exit(0);
    }
    struct reaper {
        pid_t pid;
        ~reaper() {
            ::kill(pid, SIGKILL);
            while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
            }
        }
    } child{pid};
    data.write.reset();
    info.write.reset();
    std::vector<std::byte> buffer(256 * 1024);
    for (;;) {
        const auto size = ::read(data.read.get(), buffer.data(), buffer.size());
        if (size < 0 && errno == EINTR) continue;
        if (size < 0) throw system_error("read the layer", errno);
        if (size == 0) break;
        out.write(std::span(buffer.data(), static_cast<std::size_t>(size)));
    }
    std::string report;
    char chunk[4096];
    for (ssize_t size; (size = ::read(info.read.get(), chunk, sizeof chunk)) > 0;)
        report.append(chunk, static_cast<std::size_t>(size));
    if (!report.starts_with("O "))
        throw exec_error("write the layer", report.empty() ? "the writer died" : report.substr(2));
    out.finish();
    std::istringstream fields(report.substr(2));
    std::string diff_id, compressed;
    std::uint64_t tar_size = 0, compressed_size = 0;
    int kind_number = 0;
    fields >> diff_id >> tar_size >> compressed >> compressed_size >> kind_number;
    return {digest::parse(diff_id), tar_size, digest::parse(compressed), compressed_size,
            static_cast<layer::compression>(kind_number)};
}

layer::layer_info container::write_layer(layer::byte_sink& out,
                                         const layer::write_options& options) const {
    const auto& self = *impl_;
    if (!self.ran) throw exec_error("write the layer", "the container has not run");
    if (::geteuid() == 0) return self.write_layer_here(out, options);
    return self.write_layer_as_root(out, options);
}

}  // namespace dockwright::exec
