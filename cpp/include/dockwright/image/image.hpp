// The image configuration: Docker's V1Image and Image, and the image ID that its bytes give.
#pragma once

#include <cstdint>
#include <dockwright/core/digest.hpp>
#include <dockwright/core/time.hpp>
#include <dockwright/image/config.hpp>
#include <dockwright/image/history.hpp>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dockwright {

/// Docker's image.V1Image: the fields an image config shares with the legacy v1 format.
struct v1_image {
    std::string id;
    std::string parent;
    std::string comment;
    timestamp created;
    std::string container;
    /// The config of the container the last step ran in; Docker always writes it.
    dockwright::config container_config;
    std::string docker_version;
    std::string author;
    std::optional<dockwright::config> config;
    std::string architecture;
    std::string variant;
    std::string os;
    std::int64_t size = 0;
    extra_fields extra;

    friend bool operator==(const v1_image&, const v1_image&) = default;
};

/// Docker's image.Image, the document stored as an image's config blob. Its JSON has the
/// top-level keys sorted, because Docker marshals it through a map.
struct image : v1_image {
    std::optional<dockwright::root_fs> rootfs;
    std::vector<dockwright::history> history;
    std::string os_version;
    std::vector<std::string> os_features;

    friend bool operator==(const image&, const image&) = default;

    /// The image ID: `sha256:` and the SHA-256 of to_json(*this). (The member `id` is the
    /// legacy v1 field, which Docker leaves empty in config blobs.)
    [[nodiscard]] digest computed_id() const;
};

/// Encodes a V1Image in Go's struct order (the legacy `json` files of docker save).
[[nodiscard]] std::string to_json(const v1_image& value);
/// Encodes the image config as Docker writes the config blob.
[[nodiscard]] std::string to_json(const image& value);

/// Decode as Go does; throw json_error naming the field path and the offending value.
[[nodiscard]] v1_image v1_image_from_json(std::string_view text);
[[nodiscard]] image image_from_json(std::string_view text);

/// The ID of the image whose config blob is `config_bytes`, without decoding it.
[[nodiscard]] digest image_id_of(std::string_view config_bytes);

std::ostream& operator<<(std::ostream& out, const v1_image& value);
std::ostream& operator<<(std::ostream& out, const image& value);

}  // namespace dockwright
