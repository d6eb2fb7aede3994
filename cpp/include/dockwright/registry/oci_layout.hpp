// An OCI image layout directory as the target of a pull and the source of a push.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "dockwright/registry/blob_sink.hpp"
#include "dockwright/registry/image_source.hpp"

namespace dockwright::registry {

/// The annotation that names a manifest of an OCI layout's index.json, as skopeo's
/// `oci:DIR:NAME` writes and reads it.
inline constexpr std::string_view ref_name_annotation = "org.opencontainers.image.ref.name";

/// Pulls into an OCI image layout (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`), creating it
/// when missing. Blobs arrive in `blobs/.tmp-*` files and are renamed into place on commit;
/// commit_image() adds the manifest to index.json, replacing an entry of the same name, under
/// an flock on the layout so concurrent pulls into one layout do not lose entries.
class oci_layout_sink final : public blob_sink {
  public:
    /// `ref_name` is the name given to the pulled manifest in index.json; empty means the tag
    /// of the pulled reference (no name when it has none).
    explicit oci_layout_sink(std::filesystem::path root, std::string ref_name = "");

    bool has_blob(const descriptor& blob) override;
    std::unique_ptr<incoming_blob> open_blob(const descriptor& blob) override;
    void commit_image(const pulled_image& image) override;

    [[nodiscard]] const std::filesystem::path& root() const noexcept { return root_; }

  private:
    std::filesystem::path root_;
    std::string ref_name_;
};

/// Pushes one image or index of an OCI image layout: the index.json entry whose ref.name
/// annotation is `ref_name`, or the only entry when `ref_name` is empty. Throws registry_error
/// naming the layout when it has no such entry, or several and no name was given.
class oci_layout_source final : public image_source {
  public:
    explicit oci_layout_source(std::filesystem::path root, std::string ref_name = "");

    manifest_document root() override;
    std::unique_ptr<blob_reader> open(const descriptor& blob) override;

  private:
    std::filesystem::path root_;
    descriptor entry_;
};

/// Returns the path of a blob inside an OCI layout: `<root>/blobs/<algorithm>/<hex>`.
[[nodiscard]] std::filesystem::path oci_blob_path(const std::filesystem::path& root,
                                                  const dockwright::digest& blob);

}  // namespace dockwright::registry
