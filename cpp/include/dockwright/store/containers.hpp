// Build containers kept in the store (`docker build --rm=false`, and failed steps without
// `--force-rm`), so that users can look at them, list them and remove them.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dockwright/core/digest.hpp"
#include "dockwright/store/store.hpp"

namespace dockwright {

/// A stopped build container as the store keeps it: `containers/<id>/container.json` with
/// these fields, and `containers/<id>/upper/`, the overlay upper directory of its step (the
/// files the step added or changed, whiteouts included).
struct container_info {
    std::string id;                    ///< 64 hex digits.
    std::optional<digest> image;       ///< The image the container started from; none for scratch.
    std::vector<std::string> command;  ///< The step's Cmd, as in its container_config.
    std::string created;               ///< When the container was created (RFC 3339).
    std::optional<int> exit_code;      ///< The command's exit status, when a command ran.
    /// The image the step committed from the container; none for a failed step.
    std::optional<digest> committed;
    /// The container's config (the step's container_config) as JSON.
    std::string config;
};

/// Records `info` in `target`, copying the directory `upper` into the record. The record
/// appears at once when complete: it is written under tmp/ and renamed into place. Throws
/// store_error when the copy fails.
void save_container(const store& target, const container_info& info,
                    const std::filesystem::path& upper);

/// The kept containers, newest first.
[[nodiscard]] std::vector<container_info> list_containers(const store& target);

/// Finds a kept container by full ID or unique ID prefix. Throws store_error when none or
/// several match.
[[nodiscard]] container_info find_container(const store& target, std::string_view id);

/// The directory holding the record of container `id` (a full ID).
[[nodiscard]] std::filesystem::path container_path(const store& target, std::string_view id);

/// Removes the kept container `id` (full ID or unique prefix) and returns its full ID.
/// Throws store_error when none or several match.
std::string remove_container(const store& target, std::string_view id);

/// Removes every kept container and returns their IDs.
std::vector<std::string> remove_all_containers(const store& target);

}  // namespace dockwright
