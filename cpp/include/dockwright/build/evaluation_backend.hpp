// The evaluation backend: computes configs and history without running anything.
#pragma once

#include <dockwright/build/backend.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace dockwright {

/// Finds a base image by reference for an evaluation.
using image_lookup = std::function<std::optional<base_image>(const std::string&)>;

/// A Backend that executes nothing: RUN steps report `executed = false`, layers are
/// `unknown` and have no digest, COPY --from hashes are unknown. Container IDs are derived
/// from a counter, so an evaluation is repeatable.
class evaluation_backend {
  public:
    explicit evaluation_backend(image_lookup lookup = {}) : lookup_(std::move(lookup)) {}

    std::optional<base_image> lookup_image(const std::string& reference);
    std::optional<std::string> source_hash(const copy_source&) { return std::nullopt; }
    std::string create_container(const std::optional<digest>& parent, const config& settings);
    run_outcome run(const std::string&, const run_spec&, const build_event_sink&) {
        return {0, false};
    }
    void copy(const std::string&, const copy_spec&) {}
    void make_directory(const std::string&, const std::string&) {}
    layer_outcome commit_layer(const std::string&) { return {}; }
    void remove_container(const std::string&) {}
    digest store_image(const image& value);
    void tag(const digest& id, const std::string& name) { tags_.insert_or_assign(name, id); }
    cache_probe probe_cache(const std::optional<digest>&, const config&) {
        return {std::nullopt, "an evaluation has no build cache"};
    }

    [[nodiscard]] const std::map<std::string, digest>& tags() const noexcept { return tags_; }

  private:
    image_lookup lookup_;
    std::map<std::string, image> images_;
    std::map<std::string, digest> tags_;
    unsigned long containers_ = 0;
};

static_assert(Backend<evaluation_backend>);

}  // namespace dockwright
