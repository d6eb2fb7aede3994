// The image config as BuildKit (Docker 20.10's builder v2) writes it.
#pragma once

#include <dockwright/image/image.hpp>
#include <string>

namespace dockwright {

/// Encodes `value` as BuildKit's image exporter does: top-level keys sorted (architecture,
/// author, config, created, history, os, rootfs, variant), no container, container_config or
/// docker_version, and a config that leaves out every empty field except `OnBuild`, which is
/// written as null when unset. Field order inside config follows the OCI ImageConfig, then
/// Docker's Healthcheck, ArgsEscaped, OnBuild and Shell.
[[nodiscard]] std::string to_buildkit_json(const image& value);

}  // namespace dockwright
