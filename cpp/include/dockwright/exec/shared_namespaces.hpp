// The user and network namespaces that the RUN containers of one build share.
#pragma once

#include <memory>

namespace dockwright::exec {

/// The kind of id map in the shared user namespace.
enum class id_map_kind {
    /// The builder runs as root: every id maps to itself.
    identity,
    /// Rootless: the invoking user is root inside, and the ranges of /etc/subuid and
    /// /etc/subgid (written by newuidmap and newgidmap) are ids 1 and up.
    subordinate,
    /// Rootless without subordinate ids: only root exists inside, and setgroups(2) is denied.
    single,
};

/// A user namespace with the builder's id map and a network namespace that contains only the
/// loopback interface, which is up. Creating them costs a process, the id map (two setuid
/// helpers when rootless) and the network namespace, so a build creates one set and hands it
/// to every container through `run_spec::namespaces`. Each container still gets its own
/// mount, pid, uts and ipc namespaces. The namespaces live as long as this object, because it
/// keeps a descriptor of each open. Thread-safe: the first container that needs them creates
/// them.
class shared_namespaces {
  public:
    /// Creates nothing yet; the first container that runs creates the namespaces.
    shared_namespaces();
    shared_namespaces(const shared_namespaces&) = delete;
    shared_namespaces& operator=(const shared_namespaces&) = delete;
    ~shared_namespaces();

    /// Creates the namespaces unless they exist. Throws exec_error when the kernel rejects a
    /// namespace or an id helper fails.
    void create();

    /// The id map, creating the namespaces first when needed.
    [[nodiscard]] id_map_kind id_map();

    struct impl;
    /// The descriptors, for the executor; creates the namespaces first when needed.
    [[nodiscard]] const impl& get();

  private:
    std::unique_ptr<impl> impl_;
};

}  // namespace dockwright::exec
