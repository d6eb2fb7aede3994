// pull_to_store(): a registry pull recorded in the store.
#include <dockwright/registry/store_pull.hpp>
#include <dockwright/registry/store_sink.hpp>

namespace dockwright::registry {

store_pull_result pull_to_store(store& target, const reference& ref, registry_client& client,
                                const pull_options& options) {
    store_sink sink(target);
    store_pull_result result{client.pull(ref, sink, options), {}};
    if (sink.loaded()) result.loaded.push_back(*sink.loaded());
    return result;
}

}  // namespace dockwright::registry
