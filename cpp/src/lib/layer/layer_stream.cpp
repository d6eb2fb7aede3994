// Decompression and hashing of layer blobs read for extraction.
#include "layer_stream.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "dockwright/layer/layer_error.hpp"
#include "unique_fd.hpp"

namespace dockwright::layer::detail {
namespace {

constexpr std::size_t buffer_size = 256 * 1024;
constexpr unsigned char gzip_magic[] = {0x1f, 0x8b};
constexpr unsigned char zstd_magic[] = {0x28, 0xb5, 0x2f, 0xfd};

bool starts_with(std::span<const std::byte> bytes, std::span<const unsigned char> magic) {
    return bytes.size() >= magic.size() &&
           std::memcmp(bytes.data(), magic.data(), magic.size()) == 0;
}

}  // namespace

layer_stream::layer_stream(int fd) : fd_(fd), input_(buffer_size), output_(buffer_size) {
    // Reads until the magic bytes are decided or the stream ends.
    while (input_end_ < 4 && fill_input()) {
    }
    const std::span<const std::byte> head(input_.data(), input_end_);
    if (starts_with(head, gzip_magic)) {
        kind_ = compression::gzip;
        // 16 + MAX_WBITS: a gzip wrapper, not zlib's.
        if (inflateInit2(&zlib_, 16 + MAX_WBITS) != Z_OK) {
            throw layer_error("", "zlib: cannot initialise inflate");
        }
        zlib_ready_ = true;
    } else if (starts_with(head, zstd_magic)) {
        kind_ = compression::zstd;
        zstd_ = ZSTD_createDCtx();
        if (zstd_ == nullptr) throw layer_error("", "zstd: out of memory");
    }
}

layer_stream::~layer_stream() {
    if (zlib_ready_) inflateEnd(&zlib_);
    ZSTD_freeDCtx(zstd_);
}

// Appends to the input buffer (compacting it first); returns false at end of file.
bool layer_stream::fill_input() {
    if (input_eof_) return false;
    if (input_pos_ > 0) {
        std::memmove(input_.data(), input_.data() + input_pos_, input_end_ - input_pos_);
        input_end_ -= input_pos_;
        input_pos_ = 0;
    }
    if (input_end_ == input_.size()) return true;
    while (true) {
        const ssize_t n = ::read(fd_, input_.data() + input_end_, input_.size() - input_end_);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw layer_error("", syscall_reason("read"));
        if (n == 0) {
            input_eof_ = true;
            return false;
        }
        blob_hasher_.update(std::span(input_.data() + input_end_, static_cast<std::size_t>(n)));
        blob_size_ += static_cast<std::uint64_t>(n);
        input_end_ += static_cast<std::size_t>(n);
        return true;
    }
}

std::span<const std::byte> layer_stream::read() {
    std::span<const std::byte> bytes;
    switch (kind_) {
        case compression::gzip:
            bytes = read_gzip();
            break;
        case compression::zstd:
            bytes = read_zstd();
            break;
        case compression::none:
            if (input_pos_ == input_end_) fill_input();
            bytes = std::span(input_.data() + input_pos_, input_end_ - input_pos_);
            input_pos_ = input_end_;
            break;
    }
    tar_hasher_.update(bytes);
    tar_size_ += bytes.size();
    return bytes;
}

std::span<const std::byte> layer_stream::read_gzip() {
    while (true) {
        if (member_done_) {
            // Another member may follow (RFC 1952 section 2.2); anything else is an error.
            if (input_pos_ == input_end_ && !fill_input()) return {};
            if (input_end_ - input_pos_ < 2) fill_input();
            const std::span<const std::byte> rest(input_.data() + input_pos_,
                                                  input_end_ - input_pos_);
            if (!starts_with(rest, gzip_magic)) {
                throw layer_error("", "gzip: data after the end of the compressed stream");
            }
            inflateReset(&zlib_);
            member_done_ = false;
        }
        if (input_pos_ == input_end_ && !fill_input()) {
            throw layer_error("", "gzip: compressed stream is truncated");
        }
        zlib_.next_in = reinterpret_cast<Bytef*>(input_.data() + input_pos_);
        zlib_.avail_in = static_cast<uInt>(input_end_ - input_pos_);
        zlib_.next_out = reinterpret_cast<Bytef*>(output_.data());
        zlib_.avail_out = static_cast<uInt>(output_.size());
        const int status = inflate(&zlib_, Z_NO_FLUSH);
        input_pos_ = input_end_ - zlib_.avail_in;
        const std::size_t produced = output_.size() - zlib_.avail_out;
        if (status == Z_STREAM_END) {
            member_done_ = true;
        } else if (status == Z_BUF_ERROR && produced == 0) {
            if (!fill_input()) throw layer_error("", "gzip: compressed stream is truncated");
        } else if (status != Z_OK) {
            const char* message = zlib_.msg != nullptr ? zlib_.msg : "corrupt data";
            throw layer_error("", std::string("gzip: ") + message);
        }
        if (produced > 0) return std::span(output_.data(), produced);
    }
}

std::span<const std::byte> layer_stream::read_zstd() {
    while (true) {
        if (input_pos_ == input_end_ && !fill_input()) {
            if (zstd_pending_ != 0) throw layer_error("", "zstd: compressed stream is truncated");
            return {};
        }
        ZSTD_inBuffer in{input_.data(), input_end_, input_pos_};
        ZSTD_outBuffer out{output_.data(), output_.size(), 0};
        zstd_pending_ = ZSTD_decompressStream(zstd_, &out, &in);
        if (ZSTD_isError(zstd_pending_)) {
            throw layer_error("", std::string("zstd: ") + ZSTD_getErrorName(zstd_pending_));
        }
        input_pos_ = in.pos;
        if (out.pos > 0) return std::span(output_.data(), out.pos);
    }
}

void layer_stream::drain() {
    while (!read().empty()) {
    }
}

}  // namespace dockwright::layer::detail
