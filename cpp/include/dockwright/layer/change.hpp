// A change between two filesystem trees, the input of a layer written from a comparison.
#pragma once

#include <string>

namespace dockwright::layer {

/// What happened to a path.
enum class change_kind {
    /// The path is new or its content or metadata changed; the layer carries it as it is now.
    /// A directory is carried alone: list its changed children as changes of their own.
    modified,
    /// The path was removed; the layer carries an AUFS whiteout `.wh.<name>`.
    deleted,
    /// The path is a directory that replaces the one below it: the layer carries the
    /// directory and the opaque marker `.wh..wh..opq`. List its children as changes too.
    opaque,
};

/// One changed path, relative to the root (`usr/bin/env`, no leading `/` or `./`).
struct change {
    std::string path;
    change_kind kind = change_kind::modified;

    friend bool operator==(const change&, const change&) = default;
};

}  // namespace dockwright::layer
