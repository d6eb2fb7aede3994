// The store as the target of a pull: blobs stream into its blob area, checked on the way.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "dockwright/registry/blob_sink.hpp"
#include "dockwright/store/archive.hpp"
#include "dockwright/store/store.hpp"

namespace dockwright::registry {

/// Pulls into a store without an intermediate copy. The store keeps layers uncompressed under
/// their diff IDs, so each layer is decompressed (gzip, zstd or none, detected from its first
/// bytes) while it downloads, into a temporary file under the store's `tmp/`. The file is
/// renamed to `blobs/sha256/<diff ID>` only after the puller has verified the compressed
/// digest and size, the uncompressed digest equals the diff ID the config lists for that
/// layer, and the tar passed the checks load_archive() applies. A layer whose diff ID the
/// store already has is not downloaded. commit_image() records the image and its reference
/// in one transaction. A pull that fails or is killed before that leaves nothing an image
/// row names: temporary files, which prune removes, and verified blobs without a row.
///
/// The sink holds the store's writer lock from construction to destruction, so garbage
/// collection cannot remove a committed blob before the image row names it.
class store_sink final : public blob_sink {
  public:
    explicit store_sink(store& target);

    bool has_blob(const descriptor& blob) override;
    std::unique_ptr<incoming_blob> open_blob(const descriptor& blob) override;
    void begin_image(const pulled_image& image) override;
    void commit_image(const pulled_image& image) override;

    /// The image recorded by commit_image(); nothing before it ran.
    [[nodiscard]] const std::optional<loaded_image>& loaded() const noexcept { return loaded_; }

  private:
    class layer_blob;
    class config_blob;

    /// The layer blobs of the image being pulled: descriptor digest to the diff ID its
    /// uncompressed content must have.
    std::map<digest, digest> expected_diff_ids_;
    /// Filled by the download threads: descriptor digest to the layer it produced.
    std::map<digest, layer_record> received_;
    std::mutex mutex_;
    store& target_;
    store::writer_lock lock_;
    std::optional<loaded_image> loaded_;
};

}  // namespace dockwright::registry
