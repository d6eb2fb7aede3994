// Private: the descriptors behind shared_namespaces.
#pragma once

#include <mutex>

#include "dockwright/exec/shared_namespaces.hpp"
#include "fd.hpp"

namespace dockwright::exec {

struct shared_namespaces::impl {
    std::mutex mutex;
    bool created = false;
    detail::unique_fd user;
    detail::unique_fd network;
    id_map_kind map = id_map_kind::identity;
};

}  // namespace dockwright::exec
