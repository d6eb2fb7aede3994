// pull_to_store(): a registry pull recorded in the store.
#include <dockwright/registry/oci_layout.hpp>
#include <dockwright/registry/store_pull.hpp>
#include <filesystem>

namespace dockwright::registry {

store_pull_result pull_to_store(store& target, const reference& ref, registry_client& client,
                                const pull_options& options) {
    // NOTE: until the store implements blob_sink itself, blobs are written twice: into the
    // temporary layout, then by load_archive() into the store.
    const std::filesystem::path layout = target.make_temp_dir("pull-");
    struct remove_layout {
        const std::filesystem::path& path;
        ~remove_layout() {
            std::error_code ignored;
            std::filesystem::remove_all(path, ignored);
        }
    } cleanup{layout};
    oci_layout_sink sink(layout, ref.tag() ? ref.str() : std::string());
    store_pull_result result{client.pull(ref, sink, options), {}};
    result.loaded = load_archive(target, layout);
    return result;
}

}  // namespace dockwright::registry
