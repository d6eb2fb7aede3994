// Private: cgroups and rlimits of a container.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "dockwright/exec/run_spec.hpp"

namespace dockwright::exec::detail {

/// The setrlimit resource of a --ulimit name, or -1 when the name is unknown.
int rlimit_resource(std::string_view name);

/// The cgroups of one container, with the limits written into them. Removes them on
/// destruction after killing any process still inside.
class cgroup_set {
  public:
    /// Creates `dockwright/<name>` cgroups for the controllers `limits` needs and writes the
    /// limits. Throws exec_error when a limit is invalid or cannot be applied; appends to
    /// `warnings` what is applied differently than asked (as Docker warns).
    cgroup_set(const resource_limits& limits, const std::string& name,
               std::vector<std::string>& warnings);
    cgroup_set(const cgroup_set&) = delete;
    cgroup_set& operator=(const cgroup_set&) = delete;
    ~cgroup_set();

    /// Moves the process into every cgroup of the set.
    void add_process(pid_t pid) const;
    /// Whether the out-of-memory killer acted in the memory cgroup.
    [[nodiscard]] bool oom_killed() const;
    /// The cgroup directories, deepest last, as recorded in the state directory.
    [[nodiscard]] const std::vector<std::string>& directories() const noexcept { return dirs_; }

  private:
    std::vector<std::string> dirs_;
    std::string memory_dir_;
    bool unified_ = false;
};

/// Kills every process in the cgroup directory and removes it, retrying while the kernel
/// still releases the processes. Returns false when it is still there after about a second.
bool remove_cgroup(const std::string& dir);

}  // namespace dockwright::exec::detail
