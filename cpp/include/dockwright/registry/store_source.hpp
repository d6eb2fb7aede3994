// The store as the source of a push: blobs are read where the store keeps them.
#pragma once

#include <memory>
#include <set>
#include <string>

#include "dockwright/registry/client.hpp"
#include "dockwright/registry/image_source.hpp"
#include "dockwright/store/store.hpp"

namespace dockwright::registry {

/// Pushes one image of a store without copying it first. The root is an OCI image manifest
/// whose layers are the store's uncompressed tars (`application/vnd.oci.image.layer.v1.tar`)
/// and whose config is the stored config, byte for byte, so the image ID survives a push and
/// a pull. open() reads the layer files in the store's blob area and the config from memory.
/// NOTE: layers are pushed uncompressed, also those that were pulled compressed, because the
/// store does not keep the compressed bytes. A config with Docker's nulls (`"Volumes":null`)
/// goes out under the OCI config media type although the OCI schema rejects those nulls,
/// whereas save_archive() re-encodes such a config for an OCI layout.
class store_source final : public image_source {
  public:
    /// Reads the image's config and layer list. Throws store_error when `id` is not an image
    /// of `source`.
    store_source(const store& source, const digest& id);

    manifest_document root() override;
    std::unique_ptr<blob_reader> open(const descriptor& blob) override;

  private:
    const store& source_;
    digest id_;
    std::string config_;
    std::string manifest_;
    std::set<digest> layers_;
};

/// Pushes the image `id` of `images` as `target`, then records the digest of the pushed
/// manifest as a repository digest of the image for `target`'s repository, as docker push
/// does. An existing repository digest of that name is left as it is
/// (store::add_repo_digest). Throws registry_error and store_error.
push_result push_from_store(store& images, const digest& id, const reference& target,
                            registry_client& client, const push_options& options = {});

}  // namespace dockwright::registry
