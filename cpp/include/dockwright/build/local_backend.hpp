// The local backend: builds into the embedded store and runs RUN steps in the namespace
// executor.
#pragma once

#include <dockwright/build/backend.hpp>
#include <dockwright/exec/cancel_token.hpp>
#include <dockwright/exec/run_spec.hpp>
#include <dockwright/store/containers.hpp>
#include <dockwright/store/store.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dockwright {

/// A `--secret id=...,src=...`: a host file that RUN steps see at /run/secrets/<id>.
struct build_secret {
    std::string id;
    std::filesystem::path source;
};

/// How the local backend runs containers and names what it makes.
struct local_backend_options {
    exec::network_mode network = exec::network_mode::none;
    exec::resource_limits limits;
    /// Where the containers' upper directories go; empty chooses /dev/shm when it is a
    /// tmpfs with at least 4 GiB free, else the store's tmp/.
    std::filesystem::path scratch;
    /// The executor's state directory; empty for exec::default_state_dir().
    std::filesystem::path exec_state_dir;
    /// Derive container IDs from the step instead of random bytes, for reproducible builds.
    bool reproducible = false;
    /// With `reproducible`: layer mtimes are clamped to this time (Unix seconds) and owner
    /// names are left out, so layers do not depend on when and where they were built.
    std::optional<std::int64_t> source_date_epoch;
    /// Cancels a running RUN when set and cancelled (Ctrl-C).
    const exec::cancel_token* cancel = nullptr;
    /// Asked when a container is removed; returning true keeps it as a record in the store
    /// (save_container(), with its upper directory) before its directory goes. The function
    /// may fill in `committed`. Nothing set removes every container.
    std::function<bool(container_info&)> keep_container;
    /// Receives `layer` progress events while a step's layer is written to the store.
    build_event_sink progress;
    /// Store configs as BuildKit writes them (to_buildkit_json) and keep empty layers, as
    /// BuildKit does for a RUN, COPY or WORKDIR that changed nothing.
    bool buildkit_config = false;
    /// Pulls a base image into the store and returns its ID; nothing (no function) when
    /// images must already be local. Called for a FROM or `--from` image that is not local,
    /// and for every one when `pull_always` is set (`docker build --pull`).
    std::function<digest(const std::string& reference)> pull;
    bool pull_always = false;
    /// The build context, where `RUN --mount=type=bind` without `from=` takes its source.
    std::filesystem::path context;
    /// Secrets `RUN --mount=type=secret` can mount; they stay out of layers and history.
    std::vector<build_secret> secrets;
};

/// A Backend on a store: base images come from the store, containers are overlayfs-style
/// upper directories stacked on the parent image's layers, RUN executes in the namespace
/// executor, COPY/ADD write into the upper directory with Docker's copy rules, and every
/// committed layer and image lands in the store. Directories made during the build live under
/// the store's tmp/ and are removed when the backend is destroyed.
class local_backend {
  public:
    explicit local_backend(store& images, local_backend_options options = {});
    ~local_backend();
    local_backend(const local_backend&) = delete;
    local_backend& operator=(const local_backend&) = delete;

    std::optional<base_image> lookup_image(const std::string& reference);
    std::optional<std::string> source_hash(const copy_source& source);
    std::string create_container(const std::optional<digest>& parent, const config& settings);
    run_outcome run(const std::string& container_id, const run_spec& spec,
                    const build_event_sink& sink);
    void copy(const std::string& container_id, const copy_spec& spec);
    void make_directory(const std::string& container_id, const std::string& path);
    layer_outcome commit_layer(const std::string& container_id);
    void remove_container(const std::string& container_id);
    digest store_image(const image& value);
    void tag(const digest& id, const std::string& name);
    cache_probe probe_cache(const std::optional<digest>& parent, const config& container_config);

    /// Records the images of this build in the store in one transaction, with `tags`
    /// pointing at `target`. Until then store_image() only computes the ID, and the
    /// destructor records what is left without tags, so that a build killed before
    /// publish() leaves no image half-written.
    void publish(const digest& target, const std::vector<reference>& tags);

    struct state;

  private:
    std::unique_ptr<state> state_;
};

static_assert(Backend<local_backend>);

}  // namespace dockwright
