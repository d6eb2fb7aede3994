// A chain of open directories below a root with a bounded number of descriptors, for walks of
// trees deeper than the descriptor limit and longer than PATH_MAX.
#pragma once

#include <sys/stat.h>

#include <algorithm>
#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "unique_fd.hpp"

namespace dockwright::layer::detail {

/// A directory's device and inode numbers, which identify it when it is opened again.
struct directory_id {
    dev_t device = 0;
    ino_t inode = 0;
};

/// The directories from a root down to the current one, one level per path component. At
/// most `max_open` levels keep an open descriptor, the deepest ones, and a closed level is
/// opened again by name from its nearest open ancestor, one component at a time with
/// O_NOFOLLOW (never through ".."). Every lookup is relative to a descriptor, so the depth of
/// the chain and the length of its path have no limit besides memory.
///
/// NOTE: going back up past the open window reopens the levels below the nearest open
/// ancestor, which is usually the root. A walk of a tree D levels deep that returns to every
/// level makes about D * D / (2 * max_open) openat calls: 70,000 for 3,000 levels and 64.
class directory_path {
  public:
    /// `root` is borrowed and must stay open; `max_open` must be at least 2.
    directory_path(int root, std::size_t max_open) : root_(root), max_open_(max_open) {}

    [[nodiscard]] std::size_t depth() const noexcept { return levels_.size(); }
    [[nodiscard]] const std::string& name(std::size_t index) const { return levels_[index].name; }

    /// Adds the subdirectory `name` of the current directory. `fd` may be empty, and then the
    /// level is opened when top() needs it. When `id` is set, a reopened level must match it.
    void push(std::string name, unique_fd fd, std::optional<directory_id> id = std::nullopt);

    /// Goes back to the parent of the current directory, closing the current one.
    void pop() noexcept;

    /// Goes back to the root.
    void clear() noexcept;

    /// Closes the current directory's descriptor while keeping the level.
    void close_top() noexcept;

    /// Returns a descriptor of the current directory (the root at depth 0), opening closed
    /// levels again as needed. Throws layer_error about `entry` when a level is gone or is no
    /// longer the directory that was pushed.
    int top(const std::string& entry);

    /// The first `count` names joined with '/'.
    [[nodiscard]] std::string joined(std::size_t count) const;

  private:
    struct level {
        std::string name;
        unique_fd fd;
        std::optional<directory_id> id;
    };

    void reopen(const std::string& entry);
    void add_open(std::size_t index) noexcept;

    int root_;
    std::size_t max_open_;
    std::vector<level> levels_;
    // Indices of the levels with an open descriptor, shallowest first. Levels are only opened
    // deeper than every level already open, so appending keeps the order.
    std::deque<std::size_t> open_;
};

/// Walk order of layer paths: bytewise, except that '/' sorts before every other byte, so that
/// a directory's subtree comes right after it ("a/b" before "a.txt"), as a recursive walk of
/// sorted names produces it.
inline bool walk_order_less(std::string_view a, std::string_view b) {
    const std::size_t n = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
        if (a[i] == b[i]) continue;
        if (a[i] == '/') return true;
        if (b[i] == '/') return false;
        return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]);
    }
    return a.size() < b.size();
}

/// Returns the names in the open directory `fd` (which may be an O_PATH descriptor), without
/// "." and "..", in readdir order. Throws layer_error about `entry` when it cannot be read.
std::vector<std::string> list_names(int fd, const std::string& entry);

/// Removes `name` in the directory `dirfd` and, for a directory, everything below it, without
/// following symlinks and with at most `max_open` directory descriptors however deep the tree
/// is. A missing name is not an error. Throws layer_error about `entry` when a removal fails.
void remove_tree(int dirfd, const std::string& name, const std::string& entry,
                 std::size_t max_open);

}  // namespace dockwright::layer::detail
