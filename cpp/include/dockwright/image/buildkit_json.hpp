// The image config as BuildKit (Docker 20.10's builder v2) writes it.
#pragma once

#include <dockwright/image/image.hpp>
#include <string>

namespace dockwright {

/// Encodes `value` as BuildKit's image exporter does. Top-level keys are sorted and there is
/// no container, container_config or docker_version. The config leaves out every empty field
/// except `OnBuild`, which is null when unset. Its field order is the OCI ImageConfig's, then
/// Docker's Healthcheck, ArgsEscaped, OnBuild and Shell.
[[nodiscard]] std::string to_buildkit_json(const image& value);

}  // namespace dockwright
