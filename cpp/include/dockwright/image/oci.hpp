// Conversion between Docker's image config and the OCI image config
// (application/vnd.oci.image.config.v1+json).
//
// What each format cannot hold:
// - OCI has no `id`, `parent`, `comment`, `container`, `container_config`, `docker_version` or
//   `Size`, and its `config` lacks Hostname, Domainname, AttachStdin/Stdout/Stderr, Tty,
//   OpenStdin, StdinOnce, Image, NetworkDisabled, MacAddress and StopTimeout. Healthcheck,
//   OnBuild and Shell are kept as the extension fields Docker itself adds to OCI configs.
// - Docker's format has no field that OCI has and Docker lacks, so OCI to Docker loses
//   nothing; Docker writes `container_config` and the always-present config keys that OCI
//   leaves out, so the bytes (and the image ID) of the two documents differ.
#pragma once

#include <dockwright/image/image.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace dockwright {

inline constexpr std::string_view oci_config_media_type =
    "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view docker_config_media_type =
    "application/vnd.docker.container.image.v1+json";

/// Encodes `value` as an OCI image config, in the field order and with the omitempty rules of
/// the image-spec Go types (plus Docker's Healthcheck/OnBuild/Shell extension). Fields OCI
/// cannot hold are dropped; oci_dropped_fields() names them.
[[nodiscard]] std::string to_oci_json(const image& value);

/// Decodes an OCI image config. OCI's keys are a subset of Docker's, so this is Docker's decoder
/// applied to the OCI document; the fields OCI lacks keep their defaults.
[[nodiscard]] image image_from_oci_json(std::string_view text);

/// Returns the JSON paths of the set fields of `value` that to_oci_json() drops, for example
/// `container_config` or `config.StopTimeout`; empty when the conversion loses nothing.
[[nodiscard]] std::vector<std::string> oci_dropped_fields(const image& value);

}  // namespace dockwright
