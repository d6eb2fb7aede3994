// Building a Dockerfile into the store: parse, check, run every step on the local backend,
// tag the result. The one entry point the CLI and the Python bindings share.
#pragma once

#include <dockwright/build/build_options.hpp>
#include <dockwright/build/build_result.hpp>
#include <dockwright/build/cache_export.hpp>
#include <dockwright/build/local_backend.hpp>
#include <dockwright/registry/client.hpp>
#include <dockwright/store/reference.hpp>
#include <dockwright/store/store.hpp>
#include <string>
#include <vector>

namespace dockwright {

/// Everything one build needs besides the store.
struct build_request {
    std::string dockerfile_text;
    build_options options;
    local_backend_options backend;
    /// References pointed at the target image once the build succeeded.
    std::vector<reference> tags;
    /// When a base image is fetched from its registry: only when it is not in the store
    /// (Docker's behaviour), for every FROM (`--pull`), or never.
    enum class pull_policy { missing, always, never };
    pull_policy pull = pull_policy::missing;
    /// How registries are reached for those pulls (credentials from the Docker config).
    registry::registry_options registry;
    /// Called with the parser's warnings, formatted as Docker prints them, before step 1.
    std::function<void(const std::string&)> on_parser_warnings;
    /// `docker build --rm`: remove the container of a step that succeeded. Without it the
    /// container is kept as a record in the store (containers.hpp).
    bool remove_containers = true;
    /// `docker build --force-rm`: remove every step's container, also a failed step's, which
    /// is otherwise kept. A cancelled build keeps none.
    bool force_remove_containers = false;
    /// `--cache-from`: build cache imported before step 1. A failed import is a warning event.
    std::vector<cache_import_request> cache_from;
    /// `--cache-to`: where the build cache of a successful build is exported.
    std::vector<cache_export_request> cache_to;
};

/// What a successful build made.
struct build_outcome {
    digest id;  ///< The target stage's image.
    build_result result;
    /// One entry per `cache_from` import that succeeded.
    std::vector<cache_import_result> cache_imports;
    /// One entry per `cache_to` export that succeeded.
    std::vector<cache_export_result> cache_exports;
};

/// Builds `request` into `images` and tags the target image. Events go to `sink` as they
/// happen. Throws parse_error, instruction_error, expansion_error and build_step_error
/// (classic_error_text() gives the line docker build ends with); nothing is tagged then, and
/// the images of the steps that succeeded stay in the store as the build cache.
/// A failed cache export throws `error` naming the location, unless it asked to ignore errors.
build_outcome build_image(store& images, const build_request& request,
                          const build_event_sink& sink = {});

}  // namespace dockwright
