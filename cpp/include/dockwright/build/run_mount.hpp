// `RUN --mount=...` (Dockerfile syntax 1.x): the mounts a single RUN sees.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace dockwright {

/// One parsed `--mount` value.
struct run_mount {
    enum class kind { bind, cache, tmpfs, secret, ssh };
    kind type = kind::bind;
    std::string target;  ///< Absolute or relative to the working directory.
    std::string source;  ///< bind: a path in the context or in `from`; cache: its subpath.
    std::string from;    ///< bind/cache: a stage name or image reference.
    std::string id;      ///< cache: the cache's name (default the target); secret: its id.
    bool readonly = false;
    bool required = false;  ///< secret: fail when no such secret was given.
    std::optional<mode_t> mode;
    std::optional<uid_t> uid;
    std::optional<gid_t> gid;
    std::string sharing = "shared";  ///< cache: shared, private or locked.
    std::string size;                ///< tmpfs: bytes (units k, m, g allowed).
};

/// Parses one `--mount` value, e.g. `type=cache,target=/root/.cache`, with BuildKit's keys
/// and defaults (bind and secret mounts are read-only unless `rw`; a secret's target is
/// /run/secrets/<id>). Throws invalid_value_error (kind `mount`) naming the value and the
/// offending key.
run_mount parse_run_mount(std::string_view text);

}  // namespace dockwright
