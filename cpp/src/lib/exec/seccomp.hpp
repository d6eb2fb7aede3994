// Private: the seccomp filter that every RUN command starts under.
#pragma once

#include <linux/filter.h>

namespace dockwright::exec::detail {

/// Returns the executor's seccomp filter, in the spirit of Docker's default profile, or null on
/// an architecture it has no system call table for. Built once; the child only reads it.
///
/// The filter is a deny list. The system calls that Docker's profile leaves off its allow list
/// for an unprivileged container fail with EPERM: kernel modules, kexec, the kernel keyring,
/// bpf, perf_event_open, open_by_handle_at, mount and the new mount API, pivot_root, setns,
/// unshare, swap, reboot, clock setting, NUMA policy, process_vm_*, userfaultfd and obsolete
/// calls. clone(2) fails with EPERM when it asks for a new namespace. clone3(2) fails with
/// ENOSYS because its flags cannot be inspected, so C libraries fall back to clone(2).
/// personality(2) accepts only the values that Docker's profile accepts. Everything else is
/// allowed.
const sock_fprog* seccomp_filter();

}  // namespace dockwright::exec::detail
