// Pulling an image from a registry into the local store.
#pragma once

#include <dockwright/registry/client.hpp>
#include <dockwright/store/archive.hpp>
#include <dockwright/store/store.hpp>
#include <vector>

namespace dockwright::registry {

/// The outcome of pull_to_store(): the transfer and the images the store recorded.
struct store_pull_result {
    pull_result transfer;
    std::vector<loaded_image> loaded;
};

/// Pulls `ref` with `client` and records it in `target` under `ref`'s tag (or by ID for a
/// digest reference). Blobs stream into the store through store_sink, which checks each one
/// before it becomes visible. Throws registry_error and store_error.
store_pull_result pull_to_store(store& target, const reference& ref, registry_client& client,
                                const pull_options& options = {});

}  // namespace dockwright::registry
