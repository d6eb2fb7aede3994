// Image manifests and indexes as registries serve them: Docker schema 2 and OCI, decoded just
// far enough to pull and push (descriptors, platforms, media types).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dockwright/core/digest.hpp"

namespace dockwright::registry {

namespace media_type {
inline constexpr std::string_view docker_manifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view docker_manifest_list =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view docker_config = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view docker_layer =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view docker_foreign_layer =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
inline constexpr std::string_view oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view oci_config = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view oci_layer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view oci_layer_gzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view oci_layer_zstd = "application/vnd.oci.image.layer.v1.tar+zstd";
}  // namespace media_type

/// The `Accept` header value naming every manifest and index type the client decodes.
[[nodiscard]] std::string manifest_accept_header();

/// An OCI platform: `linux/amd64`, `linux/arm64/v8`.
struct platform {
    std::string os;
    std::string architecture;
    std::string variant;
    std::string os_version;

    /// Parses `os/arch[/variant]`. Throws invalid_value_error of kind "platform".
    [[nodiscard]] static platform parse(std::string_view text);
    /// The platform this program was built for, as Go names it (`linux/amd64`, `linux/arm64/v8`).
    [[nodiscard]] static platform host();
    /// `os/arch[/variant]`.
    [[nodiscard]] std::string str() const;

    friend bool operator==(const platform&, const platform&) = default;
};

/// A content descriptor: the media type, digest and size of one blob or manifest.
struct descriptor {
    std::string media_type;
    /// Defaults to the digest of empty content until set.
    dockwright::digest digest = dockwright::digest::sha256_of("");
    std::int64_t size = 0;
    std::vector<std::string> urls;
    std::map<std::string, std::string> annotations;
    std::optional<registry::platform> platform;
};

/// A single-image manifest (Docker schema 2 or OCI image manifest).
struct image_manifest {
    std::string media_type;
    descriptor config;
    std::vector<descriptor> layers;
};

/// A multi-platform index (Docker manifest list or OCI image index).
struct image_index {
    std::string media_type;
    std::vector<descriptor> manifests;
};

/// Returns true for the two index media types.
[[nodiscard]] bool is_index_media_type(std::string_view type) noexcept;
/// Returns true for the two single-image manifest media types.
[[nodiscard]] bool is_manifest_media_type(std::string_view type) noexcept;

/// Returns the media type of a manifest document: its `mediaType` field, else `content_type`
/// (the response header), else the OCI type its shape implies (`manifests` makes an index).
/// Throws registry_error when neither names a known type.
[[nodiscard]] std::string detect_media_type(std::string_view bytes, std::string_view content_type);

/// Decodes a single-image manifest. Throws registry_error naming what is missing or invalid.
[[nodiscard]] image_manifest parse_image_manifest(std::string_view bytes,
                                                  std::string_view media_type);
/// Decodes an index. Throws registry_error naming what is missing or invalid.
[[nodiscard]] image_index parse_image_index(std::string_view bytes, std::string_view media_type);

/// Picks the manifest of `index` for `wanted`: the first entry with the same OS
/// and architecture, and the same variant when `wanted` has one (an entry without a variant
/// matches `arm64/v8` and `arm/v7`). Entries are tried in order. Returns nothing when none
/// matches.
[[nodiscard]] std::optional<descriptor> select_platform(const image_index& index,
                                                        const platform& wanted);

}  // namespace dockwright::registry
