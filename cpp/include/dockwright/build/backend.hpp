// The Backend concept: what Builder<Backend> needs from the outside world.
#pragma once

#include <concepts>
#include <dockwright/build/build_event.hpp>
#include <dockwright/build/context_hash.hpp>
#include <dockwright/build/run_mount.hpp>
#include <dockwright/core/digest.hpp>
#include <dockwright/image/image.hpp>
#include <optional>
#include <string>
#include <vector>

namespace dockwright {

/// An image a build starts from or copies out of: its ID and its config document.
struct base_image {
    digest id;
    dockwright::image config;
};

/// A command to run in a container, with the environment Docker gives it.
struct run_spec {
    std::vector<std::string> argv;  ///< The full command, shell included.
    std::vector<std::string> env;   ///< Config Env plus the build args in scope.
    std::string user;
    std::string working_dir;
    /// The config's VOLUME paths: what the command writes below them is discarded, as the
    /// classic builder mounts a fresh volume there.
    std::vector<std::string> volumes;
    /// `RUN --mount`s with absolute targets, and the image a `from=` names.
    std::vector<std::pair<run_mount, std::optional<digest>>> mounts;
    /// `RUN --network`: none, host or default; empty for the build's setting.
    std::string network;
};

/// The result of running a command.
struct run_outcome {
    int exit_code = 0;
    bool executed = true;  ///< False when the backend only evaluates.
};

/// Where COPY or ADD takes its sources from.
struct copy_source {
    std::vector<std::string> paths;  ///< Expanded source paths as written.
    /// The image the sources come from (`--from`); nothing for the build context.
    std::optional<digest> image_id;
};

/// A COPY or ADD to perform in a container's filesystem.
struct copy_spec {
    copy_source source;
    std::string destination;  ///< Expanded, resolved against the working directory.
    std::string chown;
    std::string chmod;              ///< `--chmod` (octal), BuildKit syntax only.
    bool extract_archives = false;  ///< ADD of a local archive extracts it.
    /// `COPY --parents`: each source keeps its path relative to the context below the
    /// destination.
    bool parents = false;
    /// `--exclude` patterns (.dockerignore syntax), matched against paths relative to each
    /// source.
    std::vector<std::string> excludes;
    /// The context and the sources resolved in it, when the sources come from the context.
    const build_context_index* context = nullptr;
    std::vector<copy_source_info> context_sources;
};

/// What a build-cache lookup found: the cached image, or the reason for the miss.
struct cache_probe {
    std::optional<base_image> hit;
    std::string reason;  ///< Why the cache missed, naming the input that changed.
};

/// What committing a container's filesystem changes gave.
struct layer_outcome {
    enum class state { empty, layer, unknown };
    state kind = state::unknown;
    std::optional<digest> diff_id;  ///< Set when kind is layer and the digest is known.
    std::optional<std::int64_t> size;
};

/// The evaluator's view of the outside world. A backend looks up base images, hashes
/// sources held in images, creates containers from a parent image, runs commands and copies
/// files into them, turns their changes into a layer, stores image configs and tags them.
template <class B>
concept Backend = requires(B& backend, const std::string& text, const digest& id,
                           const std::optional<digest>& parent, const config& container_config,
                           const run_spec& run, const copy_spec& copy, const copy_source& source,
                           const build_event_sink& sink, const image& new_image) {
    /// A local image by reference or ID, or nothing when unknown.
    { backend.lookup_image(text) } -> std::same_as<std::optional<base_image>>;
    /// The content hash (`file:`, `dir:`, `multi:`) of sources held in an image, or nothing
    /// when the backend cannot see them.
    { backend.source_hash(source) } -> std::same_as<std::optional<std::string>>;
    /// A new container on top of `parent` (nothing for scratch); returns its 64-hex ID.
    { backend.create_container(parent, container_config) } -> std::same_as<std::string>;
    { backend.run(text, run, sink) } -> std::same_as<run_outcome>;
    { backend.copy(text, copy) } -> std::same_as<void>;
    { backend.make_directory(text, text) } -> std::same_as<void>;
    /// The filesystem changes of the container as a layer.
    { backend.commit_layer(text) } -> std::same_as<layer_outcome>;
    { backend.remove_container(text) } -> std::same_as<void>;
    /// Stores the image config and returns its ID.
    { backend.store_image(new_image) } -> std::same_as<digest>;
    { backend.tag(id, text) } -> std::same_as<void>;
    /// The classic build cache: an image whose parent is `parent` and whose container_config
    /// equals `container_config`, or why there is none.
    { backend.probe_cache(parent, container_config) } -> std::same_as<cache_probe>;
};

}  // namespace dockwright
