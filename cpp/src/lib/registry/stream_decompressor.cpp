// stream_decompressor: gzip through zlib's inflate, zstd through ZSTD_decompressStream.
#include "stream_decompressor.hpp"

#include <algorithm>

#include "dockwright/registry/registry_error.hpp"

namespace dockwright::registry {

namespace {

constexpr std::size_t output_size = 256 * 1024;
constexpr std::byte gzip_magic[] = {std::byte{0x1f}, std::byte{0x8b}};
constexpr std::byte zstd_magic[] = {std::byte{0x28}, std::byte{0xb5}, std::byte{0x2f},
                                    std::byte{0xfd}};

bool starts_with(std::span<const std::byte> bytes, std::span<const std::byte> magic) {
    return bytes.size() >= magic.size() && std::equal(magic.begin(), magic.end(), bytes.begin());
}

}  // namespace

stream_decompressor::stream_decompressor(layer::byte_sink& next, std::string subject)
    : next_(next), subject_(std::move(subject)) {}

stream_decompressor::~stream_decompressor() {
    if (zlib_ready_) inflateEnd(&zlib_);
    if (zstd_ != nullptr) ZSTD_freeDStream(zstd_);
}

void stream_decompressor::write(std::span<const std::byte> bytes) {
    if (format_ != format::unknown) {
        feed(bytes);
        return;
    }
    head_.insert(head_.end(), bytes.begin(), bytes.end());
    if (head_.size() >= std::size(zstd_magic)) detect(false);
}

void stream_decompressor::detect(bool at_end) {
    const std::span<const std::byte> head(head_);
    if (starts_with(head, gzip_magic)) {
        format_ = format::gzip;
        if (inflateInit2(&zlib_, 16 + MAX_WBITS) != Z_OK) {
            throw registry_error(subject_, "cannot start gzip decompression");
        }
        zlib_ready_ = true;
    } else if (starts_with(head, zstd_magic)) {
        format_ = format::zstd;
        zstd_ = ZSTD_createDStream();
        if (zstd_ == nullptr) throw registry_error(subject_, "cannot start zstd decompression");
    } else if (at_end || head.size() >= std::size(zstd_magic)) {
        format_ = format::none;
    } else {
        return;
    }
    if (format_ != format::none) output_.resize(output_size);
    std::vector<std::byte> pending = std::move(head_);
    head_.clear();
    feed(pending);
}

void stream_decompressor::feed(std::span<const std::byte> bytes) {
    switch (format_) {
        case format::gzip:
            inflate_gzip(bytes);
            break;
        case format::zstd:
            decompress_zstd(bytes);
            break;
        case format::none:
        case format::unknown:
            next_.write(bytes);
            break;
    }
}

void stream_decompressor::inflate_gzip(std::span<const std::byte> bytes) {
    // zlib's interface takes a non-const input pointer but does not write through it.
    zlib_.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(bytes.data()));
    zlib_.avail_in = static_cast<uInt>(bytes.size());
    for (;;) {
        if (!member_open_) {
            // A gzip file is a sequence of members, and each member after the first starts afresh.
            if (zlib_.avail_in == 0) return;
            inflateReset(&zlib_);
            member_open_ = true;
        }
        zlib_.next_out = reinterpret_cast<Bytef*>(output_.data());
        zlib_.avail_out = static_cast<uInt>(output_.size());
        const int status = inflate(&zlib_, Z_NO_FLUSH);
        const std::size_t produced = output_.size() - zlib_.avail_out;
        if (produced > 0) next_.write(std::span(output_).first(produced));
        if (status == Z_STREAM_END) {
            member_open_ = false;
            continue;
        }
        if (status == Z_OK) {
            if (zlib_.avail_in == 0 && zlib_.avail_out != 0) return;
            continue;
        }
        if (status == Z_BUF_ERROR) return;  // Nothing more can be done without more input.
        throw registry_error(subject_, std::string("invalid gzip data: ") +
                                           (zlib_.msg != nullptr ? zlib_.msg : "inflate failed"));
    }
}

void stream_decompressor::decompress_zstd(std::span<const std::byte> bytes) {
    ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
    for (;;) {
        ZSTD_outBuffer out{output_.data(), output_.size(), 0};
        const std::size_t status = ZSTD_decompressStream(zstd_, &out, &in);
        if (ZSTD_isError(status) != 0) {
            throw registry_error(subject_,
                                 std::string("invalid zstd data: ") + ZSTD_getErrorName(status));
        }
        if (out.pos > 0) next_.write(std::span(output_).first(out.pos));
        zstd_pending_ = status;
        if (in.pos == in.size && out.pos < out.size) return;
    }
}

void stream_decompressor::finish() {
    if (format_ == format::unknown) detect(true);
    if (format_ == format::gzip && member_open_) {
        throw registry_error(subject_, "the gzip data ends in the middle of a member");
    }
    if (format_ == format::zstd && zstd_pending_ != 0) {
        throw registry_error(subject_, "the zstd data ends in the middle of a frame");
    }
    next_.finish();
}

}  // namespace dockwright::registry
