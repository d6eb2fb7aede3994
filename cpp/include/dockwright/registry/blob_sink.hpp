// Where a pull puts what it downloads: the interface a store implements.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "dockwright/core/digest.hpp"
#include "dockwright/registry/manifest.hpp"
#include "dockwright/store/reference.hpp"

namespace dockwright::registry {

/// A blob being received. The puller writes the bytes in order and calls commit() only after it
/// has checked their size and digest against the descriptor. An incoming_blob destroyed without
/// commit() must leave nothing behind, so a failed or corrupt download is never visible.
class incoming_blob {
  public:
    incoming_blob() = default;
    incoming_blob(const incoming_blob&) = delete;
    incoming_blob& operator=(const incoming_blob&) = delete;
    virtual ~incoming_blob() = default;

    virtual void write(std::span<const std::byte> bytes) = 0;
    /// Drops everything written so far; the download starts again from its first byte.
    virtual void restart() = 0;
    /// Makes the blob visible under its digest. Called once, after verification.
    virtual void commit() = 0;
};

/// A pulled image, handed to blob_sink::commit_image() once all its blobs are committed.
struct pulled_image {
    /// The reference that was pulled, as given (with its tag, or with its digest).
    dockwright::reference reference;
    /// The single-image manifest, its exact bytes, digest and media type.
    std::string manifest_bytes;
    dockwright::digest manifest_digest;
    image_manifest manifest;
    /// The index the manifest was selected from, when the reference named an index.
    std::optional<dockwright::digest> index_digest;
    /// The config bytes, already verified against manifest.config.
    std::string config_bytes;
};

/// The receiving end of a pull. has_blob() and open_blob() are called from several download
/// threads at once and must be thread-safe; commit_image() is called once, from the thread that
/// called registry_client::pull().
class blob_sink {
  public:
    blob_sink() = default;
    blob_sink(const blob_sink&) = delete;
    blob_sink& operator=(const blob_sink&) = delete;
    virtual ~blob_sink() = default;

    /// Returns true when the blob is already present, so the pull skips it.
    [[nodiscard]] virtual bool has_blob(const descriptor& blob) = 0;
    [[nodiscard]] virtual std::unique_ptr<incoming_blob> open_blob(const descriptor& blob) = 0;
    /// Receives the image once its manifest and config are verified, before any of its blobs
    /// is checked with has_blob() or opened. Does nothing unless overridden.
    virtual void begin_image(const pulled_image& image) { (void)image; }
    /// Records the image (for a store: its config, layers and reference). Every blob the
    /// manifest names is present when this is called.
    virtual void commit_image(const pulled_image& image) = 0;
};

}  // namespace dockwright::registry
