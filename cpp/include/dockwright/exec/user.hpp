// Resolving a Dockerfile USER value through the container's /etc/passwd and /etc/group.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace dockwright::exec {

/// The identity a command runs with.
struct exec_user {
    uid_t uid = 0;
    gid_t gid = 0;
    /// Supplementary groups, in the order of the group file.
    std::vector<gid_t> groups;
    std::string home = "/";

    friend bool operator==(const exec_user&, const exec_user&) = default;
};

/// Resolves `spec` (`name`, `uid`, `name:group`, `uid:gid`, empty for root) the way Docker
/// 20.10 does through runc's user lookup. A name must be in `passwd_text`, a number need not
/// be (its gid is then 0). An explicit group replaces the primary group and is then the only
/// supplementary group. Otherwise the supplementary groups are every group of `group_text`
/// that lists the user's name. The primary group is always among them, because Docker passes
/// it too. Throws exec_error with Docker's message, e.g.
/// `unable to find user app: no matching entries in passwd file`.
exec_user resolve_user(std::string_view spec, std::string_view passwd_text,
                       std::string_view group_text);

}  // namespace dockwright::exec
