// Building blocks shared by the image value types: Go's nil-versus-empty distinction and the
// JSON members a type does not know.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace dockwright {

/// A Go `[]string`: std::nullopt is nil (encoded `null`), an empty vector is `[]`.
using string_list = std::optional<std::vector<std::string>>;
/// A Go `map[string]struct{}` (ports, volumes): nullopt is nil, keys sorted byte-wise.
using string_set = std::optional<std::set<std::string>>;
/// A Go `map[string]string` (labels): nullopt is nil, keys sorted byte-wise.
using string_map = std::optional<std::map<std::string, std::string>>;

/// JSON members that a value type does not model, as (key, compact raw JSON) pairs in the
/// order they were read. Go would drop them; dockwright writes them back so that a config read
/// and written unchanged keeps its bytes and therefore its image ID.
using extra_fields = std::vector<std::pair<std::string, std::string>>;

}  // namespace dockwright
