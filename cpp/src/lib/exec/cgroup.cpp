// Resource limits through cgroup v1 or v2, created per container.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "dockwright/exec/exec_error.hpp"
#include "fd.hpp"
#include "limits.hpp"

namespace dockwright::exec::detail {

namespace {

constexpr const char* cgroup_root = "/sys/fs/cgroup";

bool exists(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0;
}

/// The builder's own cgroup path in the hierarchy of `controller` (v1) or the unified one
/// (`controller` empty), from /proc/self/cgroup.
std::string own_cgroup(std::string_view controller) {
    std::istringstream lines(read_small_file("/proc/self/cgroup"));
    for (std::string line; std::getline(lines, line);) {
        const auto first = line.find(':');
        const auto second = line.find(':', first + 1);
        if (first == std::string::npos || second == std::string::npos) continue;
        const std::string_view list = std::string_view(line).substr(first + 1, second - first - 1);
        const std::string path = line.substr(second + 1);
        if (controller.empty()) {
            if (list.empty()) return path;
            continue;
        }
        for (std::size_t start = 0; start <= list.size();) {
            auto comma = list.find(',', start);
            if (comma == std::string_view::npos) comma = list.size();
            if (list.substr(start, comma - start) == controller) return path;
            start = comma + 1;
        }
    }
    return "/";
}

std::string parent_of(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

/// Where the container's cgroup goes inside one hierarchy mounted at `mount`.
std::string container_cgroup(const std::string& mount, const std::string& own,
                             const resource_limits& limits, const std::string& name, bool unified) {
    std::string parent;
    if (limits.cgroup_parent.starts_with('/'))
        parent = limits.cgroup_parent;
    else if (!limits.cgroup_parent.empty())
        parent = (own == "/" ? "" : own) + "/" + limits.cgroup_parent;
    else
        // cgroup v2 forbids controllers below a cgroup that has processes, so the default
        // parent there is beside the builder's cgroup; in v1 it is below it.
        parent = (unified ? parent_of(own) : own) + "/dockwright";
    while (parent.ends_with('/'))
        parent.pop_back();
    return mount + parent + "/" + name;
}

void write_value(const std::string& dir, const std::string& file, const std::string& value,
                 const std::string& what) {
    const std::string path = dir + "/" + file;
    std::ofstream out(path);
    out << value;
    out.flush();
    if (!out) {
        const int err = errno;
        throw exec_error("apply the " + what,
                         "cannot write '" + value + "' to " + path + ": " + std::strerror(err));
    }
}

/// Creates `dir` and its missing parents; in the cpuset hierarchy each new level copies its
/// parent's cpus and mems, which v1 requires before a process may join.
void make_cgroup(const std::string& dir, const std::string& mount, bool cpuset_v1) {
    if (exists(dir)) return;
    const std::string parent = parent_of(dir);
    if (parent.size() > mount.size()) make_cgroup(parent, mount, cpuset_v1);
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
        throw system_error("create the cgroup " + dir, errno);
    if (!cpuset_v1) return;
    for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
        std::string value = read_small_file(parent + "/" + file);
        while (!value.empty() && value.back() == '\n')
            value.pop_back();
        write_value(dir, file, value, "cpuset");
    }
}

void validate(const resource_limits& limits, std::vector<std::string>& warnings) {
    // Docker 20.10's checks and messages (daemon/daemon_unix.go).
    if (limits.memory != 0 && limits.memory < 6 * 1024 * 1024)
        throw exec_error("apply the memory limit", "Minimum memory limit allowed is 6MB");
    if (limits.memory == 0 && limits.memory_swap > 0)
        throw exec_error("apply the memory limit",
                         "You should always set the Memory limit when using Memoryswap limit, "
                         "see usage");
    if (limits.memory > 0 && limits.memory_swap > 0 && limits.memory_swap < limits.memory)
        throw exec_error("apply the memory limit",
                         "Minimum memoryswap limit should be larger than memory limit, see usage");
    if (limits.cpu_period != 0 && (limits.cpu_period < 1000 || limits.cpu_period > 1000000))
        throw exec_error("apply the CPU limit",
                         "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s "
                         "(i.e. 1000000)");
    if (limits.cpu_quota > 0 && limits.cpu_quota < 1000)
        throw exec_error("apply the CPU limit",
                         "CPU cfs quota can not be less than 1ms (i.e. 1000)");
    if (limits.pids_limit < 0 && limits.pids_limit != -1)
        throw exec_error("apply the pids limit", "the limit must be positive or -1");
    (void)warnings;
}

}  // namespace

cgroup_set::cgroup_set(const resource_limits& limits, const std::string& name,
                       std::vector<std::string>& warnings) {
    validate(limits, warnings);
    unified_ = exists(std::string(cgroup_root) + "/cgroup.controllers");
    try {
        if (unified_) {
            const std::string dir =
                container_cgroup(cgroup_root, own_cgroup(""), limits, name, true);
            // Each level below the root must delegate the controllers to the next.
            std::vector<std::string> levels;
            for (std::string level = parent_of(dir); level.size() > std::strlen(cgroup_root);
                 level = parent_of(level))
                levels.insert(levels.begin(), level);
            for (const auto& level : levels) {
                make_cgroup(level, cgroup_root, false);
                const std::string parent = parent_of(level);
                std::ofstream(parent + "/cgroup.subtree_control") << "+memory +cpu +cpuset +pids";
            }
            std::ofstream(parent_of(dir) + "/cgroup.subtree_control")
                << "+memory +cpu +cpuset +pids";
            make_cgroup(dir, cgroup_root, false);
            dirs_.push_back(dir);
            memory_dir_ = dir;
            if (limits.memory != 0) {
                write_value(dir, "memory.max", std::to_string(limits.memory), "memory limit");
                std::int64_t swap = limits.memory_swap == 0 ? limits.memory : 0;
                if (limits.memory_swap > 0) swap = limits.memory_swap - limits.memory;
                if (exists(dir + "/memory.swap.max"))
                    write_value(dir, "memory.swap.max",
                                limits.memory_swap == -1 ? "max" : std::to_string(swap),
                                "memory-swap limit");
                else if (limits.memory_swap != 0)
                    warnings.push_back(
                        "Your kernel does not support swap limit capabilities or "
                        "the cgroup is not mounted. Memory limited without swap.");
            }
            if (limits.cpu_shares != 0) {
                // The conversion runc uses from cgroup v1 shares to v2 weight.
                const auto weight = 1 + ((limits.cpu_shares - 2) * 9999) / 262142;
                write_value(dir, "cpu.weight", std::to_string(weight), "cpu-shares limit");
            }
            if (limits.cpu_quota != 0 || limits.cpu_period != 0) {
                const std::string quota =
                    limits.cpu_quota > 0 ? std::to_string(limits.cpu_quota) : "max";
                const auto period = limits.cpu_period != 0 ? limits.cpu_period : 100000;
                write_value(dir, "cpu.max", quota + " " + std::to_string(period), "CPU limit");
            }
            if (!limits.cpuset_cpus.empty())
                write_value(dir, "cpuset.cpus", limits.cpuset_cpus, "cpuset-cpus limit");
            if (!limits.cpuset_mems.empty())
                write_value(dir, "cpuset.mems", limits.cpuset_mems, "cpuset-mems limit");
            if (limits.pids_limit != 0)
                write_value(dir, "pids.max",
                            limits.pids_limit < 0 ? "max" : std::to_string(limits.pids_limit),
                            "pids limit");
            return;
        }

        // cgroup v1: one directory per controller hierarchy that a limit needs. A
        // cgroup-parent alone still places the container in every hierarchy below.
        const auto hierarchy = [&](const std::string& controller) {
            const std::string mount = std::string(cgroup_root) + "/" + controller;
            if (!exists(mount + "/cgroup.procs"))
                throw exec_error("apply the " + controller + " limit",
                                 "the cgroup v1 hierarchy " + mount + " is not mounted");
            const std::string dir =
                container_cgroup(mount, own_cgroup(controller), limits, name, false);
            make_cgroup(dir, mount, controller == "cpuset");
            dirs_.push_back(dir);
            return dir;
        };
        const bool parent_only = !limits.cgroup_parent.empty();
        if (limits.memory != 0 || limits.memory_swap != 0 || parent_only) {
            memory_dir_ = hierarchy("memory");
            if (limits.memory != 0) {
                write_value(memory_dir_, "memory.limit_in_bytes", std::to_string(limits.memory),
                            "memory limit");
                // Docker's default: as much swap as memory (memory-swap = 2 * memory).
                const std::int64_t total =
                    limits.memory_swap == 0 ? 2 * limits.memory : limits.memory_swap;
                if (exists(memory_dir_ + "/memory.memsw.limit_in_bytes"))
                    write_value(memory_dir_, "memory.memsw.limit_in_bytes", std::to_string(total),
                                "memory-swap limit");
                else if (limits.memory_swap != 0)
                    warnings.push_back(
                        "Your kernel does not support swap limit capabilities or "
                        "the cgroup is not mounted. Memory limited without swap.");
            }
        }
        if (limits.cpu_shares != 0 || limits.cpu_period != 0 || limits.cpu_quota != 0 ||
            parent_only) {
            const std::string dir = hierarchy("cpu");
            if (limits.cpu_shares != 0)
                write_value(dir, "cpu.shares", std::to_string(limits.cpu_shares),
                            "cpu-shares limit");
            if (limits.cpu_period != 0)
                write_value(dir, "cpu.cfs_period_us", std::to_string(limits.cpu_period),
                            "cpu-period limit");
            if (limits.cpu_quota != 0)
                write_value(dir, "cpu.cfs_quota_us", std::to_string(limits.cpu_quota),
                            "cpu-quota limit");
        }
        if (!limits.cpuset_cpus.empty() || !limits.cpuset_mems.empty() || parent_only) {
            const std::string dir = hierarchy("cpuset");
            if (!limits.cpuset_cpus.empty())
                write_value(dir, "cpuset.cpus", limits.cpuset_cpus, "cpuset-cpus limit");
            if (!limits.cpuset_mems.empty())
                write_value(dir, "cpuset.mems", limits.cpuset_mems, "cpuset-mems limit");
        }
        if (limits.pids_limit != 0 || parent_only) {
            const std::string dir = hierarchy("pids");
            if (limits.pids_limit != 0)
                write_value(dir, "pids.max",
                            limits.pids_limit < 0 ? "max" : std::to_string(limits.pids_limit),
                            "pids limit");
        }
    } catch (...) {
        for (auto dir = dirs_.rbegin(); dir != dirs_.rend(); ++dir)
            remove_cgroup(*dir);
        throw;
    }
}

cgroup_set::~cgroup_set() {
    for (auto dir = dirs_.rbegin(); dir != dirs_.rend(); ++dir)
        remove_cgroup(*dir);
}

void cgroup_set::add_process(pid_t pid) const {
    for (const auto& dir : dirs_)
        write_value(dir, "cgroup.procs", std::to_string(pid), "limits");
}

bool cgroup_set::oom_killed() const {
    if (memory_dir_.empty()) return false;
    std::istringstream lines(
        read_small_file(memory_dir_ + (unified_ ? "/memory.events" : "/memory.oom_control")));
    for (std::string line; std::getline(lines, line);)
        if (line.starts_with("oom_kill ")) return std::stoll(line.substr(9)) > 0;
    return false;
}

bool remove_cgroup(const std::string& dir) {
    using namespace std::chrono_literals;
    for (int attempt = 0; attempt < 200; ++attempt) {
        if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return true;
        if (errno != EBUSY) return false;
        std::istringstream pids(read_small_file(dir + "/cgroup.procs"));
        for (pid_t pid = 0; pids >> pid;)
            ::kill(pid, SIGKILL);
        std::this_thread::sleep_for(5ms);
    }
    return false;
}

}  // namespace dockwright::exec::detail
