// Creating the user and network namespaces that a build's containers share, and the id map.
#include "dockwright/exec/shared_namespaces.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "child.hpp"
#include "namespaces.hpp"

namespace dockwright::exec {

namespace {

using detail::system_error;
using detail::unique_fd;

/// The start and count of the invoking user's subordinate range in /etc/subuid or /etc/subgid.
std::optional<std::pair<std::string, std::string>> subordinate_range(const std::string& file,
                                                                     const std::string& name,
                                                                     unsigned id) {
    std::istringstream lines(detail::read_small_file(file));
    for (std::string line; std::getline(lines, line);) {
        std::istringstream fields(line);
        std::string owner, start, count;
        if (!std::getline(fields, owner, ':') || !std::getline(fields, start, ':') ||
            !std::getline(fields, count))
            continue;
        if (owner == name || owner == std::to_string(id)) return std::pair(start, count);
    }
    return std::nullopt;
}

/// Runs newuidmap or newgidmap for `pid`; returns false when it is missing or fails.
bool run_id_helper(const char* helper, pid_t pid, const std::vector<std::string>& mapping) {
    if (::access(helper, X_OK) != 0) return false;
    std::vector<std::string> words{helper, std::to_string(pid)};
    words.insert(words.end(), mapping.begin(), mapping.end());
    std::vector<char*> argv;
    for (auto& word : words)
        argv.push_back(word.data());
    argv.push_back(nullptr);
    pid_t helper_pid = 0;
    if (::posix_spawn(&helper_pid, helper, nullptr, nullptr, argv.data(), environ) != 0)
        return false;
    int status = 0;
    while (::waitpid(helper_pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/// Returns the user's name as /etc/subuid lists it, or its uid as text.
std::string user_name(uid_t uid) {
    const passwd* entry = ::getpwuid(uid);
    return entry != nullptr ? entry->pw_name : std::to_string(uid);
}

/// Writes the id map of the user namespace of `pid`. As root it is the identity. Rootless, it
/// maps the invoking user to root plus its subordinate ranges through the setuid helpers, or
/// when those are missing or fail, only the invoking user with setgroups(2) denied.
id_map_kind write_id_map(pid_t pid) {
    const std::string proc = "/proc/" + std::to_string(pid);
    const uid_t uid = ::geteuid();
    const gid_t gid = ::getegid();
    if (uid == 0) {
        detail::write_file(proc + "/uid_map", "0 0 4294967295\n");
        detail::write_file(proc + "/gid_map", "0 0 4294967295\n");
        return id_map_kind::identity;
    }
    const std::string name = user_name(uid);
    const auto subuid = subordinate_range("/etc/subuid", name, uid);
    const auto subgid = subordinate_range("/etc/subgid", name, uid);
    if (subuid && subgid &&
        run_id_helper("/usr/bin/newuidmap", pid,
                      {"0", std::to_string(uid), "1", "1", subuid->first, subuid->second}) &&
        run_id_helper("/usr/bin/newgidmap", pid,
                      {"0", std::to_string(gid), "1", "1", subgid->first, subgid->second}))
        return id_map_kind::subordinate;
    // NOTE: when newuidmap succeeded and newgidmap failed, the uid map stays as written and
    // the uid_map write below fails, which raises.
    detail::write_file(proc + "/uid_map", "0 " + std::to_string(uid) + " 1\n");
    detail::write_file(proc + "/setgroups", "deny");
    detail::write_file(proc + "/gid_map", "0 " + std::to_string(gid) + " 1\n");
    return id_map_kind::single;
}

}  // namespace

shared_namespaces::shared_namespaces() : impl_(std::make_unique<impl>()) {}

shared_namespaces::~shared_namespaces() = default;

void shared_namespaces::create() {
    impl& self = *impl_;
    const std::lock_guard lock(self.mutex);
    if (self.created) return;
    auto go = detail::make_pipe();
    auto report = detail::make_pipe();
    // The holder runs in a copy of a possibly multi-threaded process: a raw clone(2) skips
    // glibc's atfork handlers, and the holder only makes system calls.
    const auto pid = static_cast<pid_t>(::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0));
    if (pid < 0) throw system_error("create the user namespace", errno);
    if (pid == 0) {
        ::close(go.write.get());
        ::close(report.read.get());
        detail::run_namespace_holder(go.read.get(), report.write.get());
    }
    struct reaper {
        pid_t pid;
        ~reaper() {
            ::kill(pid, SIGKILL);
            while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
            }
        }
    } holder{pid};
    go.read.reset();
    report.write.reset();

    self.map = write_id_map(pid);
    const char byte = 1;
    if (::write(go.write.get(), &byte, 1) != 1)
        throw system_error("start the namespace holder", errno);
    int result = 0;
    if (::read(report.read.get(), &result, sizeof result) != sizeof result)
        throw exec_error("create the network namespace", "the namespace holder died");
    if (result != 0) throw system_error("create the network namespace", result);
    const std::string proc = "/proc/" + std::to_string(pid) + "/ns/";
    self.user = unique_fd(::open((proc + "user").c_str(), O_RDONLY | O_CLOEXEC));
    if (!self.user) throw system_error("open the user namespace", errno);
    self.network = unique_fd(::open((proc + "net").c_str(), O_RDONLY | O_CLOEXEC));
    if (!self.network) throw system_error("open the network namespace", errno);
    self.created = true;
}

id_map_kind shared_namespaces::id_map() {
    return get().map;
}

const shared_namespaces::impl& shared_namespaces::get() {
    create();
    return *impl_;
}

}  // namespace dockwright::exec
