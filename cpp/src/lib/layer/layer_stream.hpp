// Private: reads a possibly compressed layer and hashes both the blob and the tar inside it.
#pragma once

#include <zlib.h>
#include <zstd.h>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "dockwright/core/digest.hpp"
#include "dockwright/layer/compression.hpp"

namespace dockwright::layer::detail {

/// Decompresses a layer read from a file descriptor, detecting gzip and zstd from the magic
/// bytes, and computes the digest and size of the blob and of the decompressed tar stream in
/// the same pass. Throws layer_error for a read failure or a corrupt or truncated stream.
class layer_stream {
  public:
    explicit layer_stream(int fd);
    ~layer_stream();
    layer_stream(const layer_stream&) = delete;
    layer_stream& operator=(const layer_stream&) = delete;

    /// Returns the next decompressed bytes; empty at the end of the stream.
    std::span<const std::byte> read();

    /// Reads to the end, so the digests cover the whole blob (trailing tar padding too).
    void drain();

    [[nodiscard]] compression kind() const noexcept { return kind_; }
    [[nodiscard]] std::uint64_t blob_size() const noexcept { return blob_size_; }
    [[nodiscard]] std::uint64_t tar_size() const noexcept { return tar_size_; }
    [[nodiscard]] digest finish_blob_digest() { return blob_hasher_.finish(); }
    [[nodiscard]] digest finish_tar_digest() { return tar_hasher_.finish(); }

  private:
    bool fill_input();
    std::span<const std::byte> read_gzip();
    std::span<const std::byte> read_zstd();

    int fd_;
    compression kind_ = compression::none;
    std::vector<std::byte> input_;
    std::size_t input_pos_ = 0;
    std::size_t input_end_ = 0;
    bool input_eof_ = false;
    std::vector<std::byte> output_;
    hasher blob_hasher_;
    hasher tar_hasher_;
    std::uint64_t blob_size_ = 0;
    std::uint64_t tar_size_ = 0;

    z_stream zlib_{};
    bool zlib_ready_ = false;
    bool member_done_ = false;
    ZSTD_DCtx* zstd_ = nullptr;
    std::size_t zstd_pending_ = 0;
};

}  // namespace dockwright::layer::detail
