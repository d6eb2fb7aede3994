// One entry of an image's history and the root filesystem description.
#pragma once

#include <dockwright/core/digest.hpp>
#include <dockwright/core/time.hpp>
#include <dockwright/image/fields.hpp>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace dockwright {

/// One step that made an image, Docker's image.History. `empty_layer` is true for steps that
/// changed only the configuration and added no entry to `rootfs.diff_ids`.
struct history {
    timestamp created;
    std::string author;
    std::string created_by;
    std::string comment;
    bool empty_layer = false;
    extra_fields extra;

    friend bool operator==(const history&, const history&) = default;
};

/// The layers of an image, Docker's image.RootFS: `type` is "layers" and `diff_ids` the
/// SHA-256 digests of the uncompressed layer tars, bottom layer first.
struct root_fs {
    std::string type = "layers";
    std::vector<digest> diff_ids;
    extra_fields extra;

    friend bool operator==(const root_fs&, const root_fs&) = default;
};

[[nodiscard]] std::string to_json(const history& value);
[[nodiscard]] std::string to_json(const root_fs& value);
/// Decode as Go does; throw json_error naming the field path and the offending value.
[[nodiscard]] history history_from_json(std::string_view text);
[[nodiscard]] root_fs root_fs_from_json(std::string_view text);

std::ostream& operator<<(std::ostream& out, const history& value);
std::ostream& operator<<(std::ostream& out, const root_fs& value);

}  // namespace dockwright
