// A tar encoder that writes the bytes Go's archive/tar writes, so layer digests match Docker's.
#pragma once

#include <cstdint>
#include <span>

#include "dockwright/layer/byte_sink.hpp"
#include "dockwright/layer/tar_entry.hpp"

namespace dockwright::layer {

/// Encodes tar entries as Go's archive/tar Writer does for Docker (Go 1.19): a ustar header
/// when the fields fit (long ASCII names split into prefix and name), else a PAX `x` header
/// named `<dir>/PaxHeaders.0/<base>` carrying path, linkpath, uname, gname, size, uid, gid,
/// mtime or `SCHILY.xattr.*` records sorted by key; data padded to 512 bytes; the archive
/// closed by two zero blocks and no further padding.
class tar_writer {
  public:
    explicit tar_writer(byte_sink& out) : out_(out) {}

    /// Writes the header of `entry`. A regular file's `entry.size` bytes must follow through
    /// write_data() before the next header. Throws layer_error naming the entry when a field
    /// cannot be encoded or the previous entry's data is incomplete.
    void write_header(const tar_entry& entry);

    /// Writes data of the current entry. Throws layer_error when it exceeds the header's size.
    void write_data(std::span<const std::byte> bytes);

    /// Returns space in the output sink for the current entry's remaining data (at most that
    /// many bytes, contiguous up to the sink's buffer size), or an empty span when the sink
    /// has no buffer of its own. commit_data() writes what was filled in.
    std::span<std::byte> data_space();
    /// Writes the first `count` bytes of the span data_space() returned as entry data.
    void commit_data(std::size_t count);

    /// Pads the last entry, writes the end-of-archive marker and finishes the sink. Call once.
    void close();

    /// The number of bytes written so far.
    [[nodiscard]] std::uint64_t size() const noexcept { return written_; }

  private:
    void finish_entry();
    void emit(std::span<const std::byte> bytes);

    byte_sink& out_;
    std::uint64_t written_ = 0;
    std::uint64_t remaining_ = 0;
    std::uint64_t padding_ = 0;
    std::string current_;
};

}  // namespace dockwright::layer
