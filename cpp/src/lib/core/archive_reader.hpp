// An owned libarchive reader that is freed when its owner goes away.
#pragma once

#include <archive.h>

#include <memory>

namespace dockwright::detail {

/// Deleter that frees a libarchive read handle.
struct archive_read_deleter {
    void operator()(archive* handle) const noexcept { archive_read_free(handle); }
};

/// Owns a libarchive read handle.
using archive_reader = std::unique_ptr<archive, archive_read_deleter>;

}  // namespace dockwright::detail
