// Push-style decompression of a layer blob that arrives in pieces from the network.
#pragma once

#include <zlib.h>
#include <zstd.h>

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "dockwright/layer/byte_sink.hpp"

namespace dockwright::registry {

/// Decompresses gzip (one or more members, RFC 1952) or zstd (one or more frames) written to
/// it in pieces and passes the result to `next`. The format is detected from the first bytes,
/// so a mislabelled media type does no harm; content in neither format passes through
/// unchanged. Errors throw registry_error naming `subject`.
class stream_decompressor final : public layer::byte_sink {
  public:
    stream_decompressor(layer::byte_sink& next, std::string subject);
    ~stream_decompressor() override;
    stream_decompressor(const stream_decompressor&) = delete;
    stream_decompressor& operator=(const stream_decompressor&) = delete;

    void write(std::span<const std::byte> bytes) override;
    using layer::byte_sink::write;
    /// Checks that the stream ended at the end of a gzip member or zstd frame, then finishes
    /// `next`.
    void finish() override;

    /// True once the first bytes showed gzip or zstd.
    [[nodiscard]] bool compressed() const noexcept {
        return format_ == format::gzip || format_ == format::zstd;
    }

  private:
    enum class format { unknown, none, gzip, zstd };

    void detect(bool at_end);
    void feed(std::span<const std::byte> bytes);
    void inflate_gzip(std::span<const std::byte> bytes);
    void decompress_zstd(std::span<const std::byte> bytes);

    layer::byte_sink& next_;
    std::string subject_;
    format format_ = format::unknown;
    std::vector<std::byte> head_;  // The first bytes, kept until the format is known.
    std::vector<std::byte> output_;
    z_stream zlib_{};
    bool zlib_ready_ = false;
    bool member_open_ = false;  // A gzip member has started and not yet ended.
    ZSTD_DStream* zstd_ = nullptr;
    std::size_t zstd_pending_ = 0;  // ZSTD_decompressStream's last hint; 0 at a frame's end.
};

}  // namespace dockwright::registry
