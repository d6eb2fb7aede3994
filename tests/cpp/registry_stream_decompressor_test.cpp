// stream_decompressor: gzip members and zstd frames fed in pieces of every size.
#include <zlib.h>
#include <zstd.h>

#include <catch2/catch.hpp>
#include <dockwright/layer/byte_sink.hpp>
#include <dockwright/layer/compression.hpp>
#include <dockwright/registry/registry_error.hpp>
#include <string>

#include "../../cpp/src/lib/registry/stream_decompressor.hpp"

using dockwright::registry_error;
using dockwright::layer::string_sink;
using dockwright::registry::stream_decompressor;

namespace {

std::string sample_text(std::size_t size) {
    std::string text;
    std::uint32_t state = 12345;
    while (text.size() < size) {
        state = state * 1103515245 + 12345;
        text += static_cast<char>('a' + (state >> 16) % 7);
    }
    return text;
}

std::string gzip_member(const std::string& data) {
    z_stream stream{};
    REQUIRE(deflateInit2(&stream, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out(deflateBound(&stream, data.size()) + 32, '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream.avail_in = static_cast<uInt>(data.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&stream, Z_FINISH) == Z_STREAM_END);
    out.resize(stream.total_out);
    deflateEnd(&stream);
    return out;
}

std::string zstd_frame(const std::string& data) {
    std::string out(ZSTD_compressBound(data.size()), '\0');
    const std::size_t size = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
    REQUIRE(ZSTD_isError(size) == 0);
    out.resize(size);
    return out;
}

/// Feeds `input` in pieces of `piece` bytes and returns what came out.
std::string decompress(const std::string& input, std::size_t piece) {
    string_sink out;
    stream_decompressor decompressor(out, "blob");
    for (std::size_t at = 0; at < input.size(); at += piece) {
        decompressor.write(std::string_view(input).substr(at, piece));
    }
    decompressor.finish();
    return out.data();
}

}  // namespace

TEST_CASE("decompressor reads gzip members in pieces") {
    const std::string first = sample_text(300'000);
    const std::string second = sample_text(1'000);
    const std::string input = gzip_member(first) + gzip_member(second);
    for (const std::size_t piece :
         {std::size_t{1}, std::size_t{3}, std::size_t{4096}, input.size()}) {
        INFO("piece size " << piece);
        CHECK(decompress(input, piece) == first + second);
    }
}

TEST_CASE("decompressor reads zstd frames in pieces") {
    const std::string first = sample_text(200'000);
    const std::string second = sample_text(10);
    const std::string input = zstd_frame(first) + zstd_frame(second);
    for (const std::size_t piece : {std::size_t{1}, std::size_t{7}, input.size()}) {
        INFO("piece size " << piece);
        CHECK(decompress(input, piece) == first + second);
    }
}

TEST_CASE("decompressor reads parallel gzip output") {
    // The layer writer's gzip: one member per MiB of input, written by several threads.
    const std::string data = sample_text(3 * 1024 * 1024 + 17);
    string_sink compressed;
    {
        const auto compressor = dockwright::layer::make_compressor(
            {dockwright::layer::compression::gzip, 0, 2}, compressed);
        compressor->write(data);
        compressor->finish();
    }
    CHECK(decompress(compressed.data(), 65'536) == data);
}

TEST_CASE("decompressor passes other content through") {
    CHECK(decompress("plain tar bytes", 2) == "plain tar bytes");
    CHECK(decompress("ab", 1) == "ab");
    CHECK(decompress("", 1).empty());
}

TEST_CASE("decompressor rejects a cut gzip member") {
    const std::string input = gzip_member(sample_text(50'000));
    string_sink out;
    stream_decompressor decompressor(out, "sha256:abc");
    decompressor.write(std::string_view(input).substr(0, input.size() - 5));
    CHECK_THROWS_WITH(decompressor.finish(),
                      "sha256:abc: the gzip data ends in the middle of a member");
}

TEST_CASE("decompressor rejects a cut zstd frame") {
    const std::string input = zstd_frame(sample_text(50'000));
    string_sink out;
    stream_decompressor decompressor(out, "sha256:abc");
    decompressor.write(std::string_view(input).substr(0, input.size() / 2));
    CHECK_THROWS_WITH(decompressor.finish(),
                      "sha256:abc: the zstd data ends in the middle of a frame");
}

TEST_CASE("decompressor rejects invalid gzip data") {
    std::string input = gzip_member(sample_text(1'000));
    input[3] = '\xff';  // Reserved flag bits.
    string_sink out;
    stream_decompressor decompressor(out, "sha256:abc");
    CHECK_THROWS_AS(decompressor.write(input), registry_error);
}
