// What a push reads from: the interface a store implements.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dockwright/registry/manifest.hpp"

namespace dockwright::registry {

/// Reads one blob from its first byte.
class blob_reader {
  public:
    blob_reader() = default;
    blob_reader(const blob_reader&) = delete;
    blob_reader& operator=(const blob_reader&) = delete;
    virtual ~blob_reader() = default;

    /// Fills `buffer` and returns the number of bytes read; 0 means the end of the blob.
    virtual std::size_t read(std::span<std::byte> buffer) = 0;
};

/// A manifest or index document with its media type, pushed as these exact bytes.
struct manifest_document {
    std::string media_type;
    std::string bytes;
};

/// The sending end of a push. open() is called from several upload threads at once and must
/// be thread-safe.
class image_source {
  public:
    image_source() = default;
    image_source(const image_source&) = delete;
    image_source& operator=(const image_source&) = delete;
    virtual ~image_source() = default;

    /// The manifest or index to push under the target reference.
    [[nodiscard]] virtual manifest_document root() = 0;
    /// Opens a blob, or a manifest that an index names, by its descriptor.
    [[nodiscard]] virtual std::unique_ptr<blob_reader> open(const descriptor& blob) = 0;
};

}  // namespace dockwright::registry
