// Pushing the image `dockwright build` made: `-o type=registry,name=REF` and `--push`.
#pragma once

#include <dockwright/core/digest.hpp>
#include <dockwright/registry/client.hpp>
#include <dockwright/store/reference.hpp>
#include <dockwright/store/store.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace dockwright::cli {

/// One image output of `-o`: the names given with `name=` (a comma list inside quotes, or one
/// name) and whether to push them.
struct image_output {
    std::vector<reference> names;
    bool push = false;
};

/// Returns true when the `-o` value `text` has `type=registry` or `type=image`.
[[nodiscard]] bool is_image_output(const std::string& text);

/// Reads `-o type=registry|image,...`: `name=REF` (repeatable, or several names in one quoted
/// value: `"name=a:1,b:2"`) and `push=true|false`; type=registry means push=true. Throws
/// invalid_value_error naming `text` for another key, a missing name or an invalid reference.
[[nodiscard]] image_output parse_image_output(const std::string& text);

/// Pushes image `id` of `images` to every reference in `targets`, reading the blobs in place,
/// with one client built from `options`. Writes `<reference>: digest: <manifest digest>` for
/// each push to `out` (as a jsonmessage `stream` record when `json` is set) unless `out` is
/// null. Records each pushed manifest's digest as a repository digest of the image. Throws
/// registry_error.
void push_built_image(store& images, const digest& id, const std::vector<reference>& targets,
                      const registry::registry_options& options, std::ostream* out, bool json);

}  // namespace dockwright::cli
