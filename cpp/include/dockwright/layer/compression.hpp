// Streaming compression of a layer: parallel gzip (libdeflate) and zstd.
#pragma once

#include <memory>
#include <string_view>

#include "dockwright/layer/byte_sink.hpp"

namespace dockwright::layer {

/// The compressions a layer blob may have.
enum class compression { none, gzip, zstd };

/// Returns the name used in media types and on the command line: "none", "gzip", "zstd".
[[nodiscard]] std::string_view compression_name(compression kind) noexcept;

/// How to compress. `level` 0 picks the default of the kind (gzip 1, zstd 3). gzip level 1
/// uses ISA-L's igzip and levels 2 to 12 libdeflate. `threads` 0 uses every online CPU.
struct compression_options {
    compression kind = compression::none;
    int level = 0;
    unsigned threads = 0;
};

/// Returns a sink that compresses what it is given and writes the result to `next`, which
/// must outlive it. For compression::none it passes bytes through unchanged.
///
/// gzip output is a sequence of gzip members of up to 1 MiB of input each, compressed on
/// `threads` threads; RFC 1952 defines such a multi-member file as the concatenation of its
/// members, and gzip, Go's compress/gzip and libarchive read it as one stream.
[[nodiscard]] std::unique_ptr<byte_sink> make_compressor(const compression_options& options,
                                                         byte_sink& next);

}  // namespace dockwright::layer
