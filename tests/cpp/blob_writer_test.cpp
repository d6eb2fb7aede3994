// Tests of blob_writer: buffering, direct I/O for large blobs, supplied digests.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <dockwright/store/store.hpp>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "support.hpp"

namespace fs = std::filesystem;
using namespace dockwright;

namespace {

struct temp_root {
    explicit temp_root(const fs::path& parent = fs::temp_directory_path())
        : path(parent /
               ("dw-blob-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()))) {}
    fs::path path;
    ~temp_root() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
};

/// Bytes that differ at every position modulo 251, so a misplaced piece changes the digest.
std::string pattern(std::size_t size) {
    std::string bytes(size, '\0');
    for (std::size_t i = 0; i < size; ++i)
        bytes[i] = static_cast<char>((i * 7 + i / 4096) % 251);
    return bytes;
}

std::string file_contents(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Writes `bytes` in pieces of the given sizes (cycled) and commits.
digest write_in_pieces(blob_writer& writer, const std::string& bytes,
                       const std::vector<std::size_t>& sizes,
                       const std::optional<digest>& expected = std::nullopt) {
    std::size_t offset = 0;
    for (std::size_t i = 0; offset < bytes.size(); ++i) {
        const std::size_t take = std::min(sizes[i % sizes.size()], bytes.size() - offset);
        writer.write(std::as_bytes(std::span(bytes.data() + offset, take)));
        offset += take;
    }
    return writer.commit(expected);
}

void check_round_trip(const fs::path& parent) {
    temp_root root(parent);
    store target(root.path);
    // Pieces smaller than, equal to and larger than the 1 MiB buffer, and a tail of odd size.
    const std::string bytes = pattern((std::size_t{3} << 20) + 12345);
    blob_writer writer(target);
    const digest id = write_in_pieces(writer, bytes, {512, 1 << 20, 3 << 19, 77});
    CHECK(id == digest::sha256_of(bytes));
    CHECK(writer.size() == bytes.size());
    CHECK(file_contents(target.blob_path(id)) == bytes);
    CHECK(fs::is_empty(root.path / "tmp"));
}

}  // namespace

TEST_CASE("blob_writer stores a multi-megabyte blob byte for byte", "[store]") {
    check_round_trip(fs::temp_directory_path());
}

TEST_CASE("blob_writer stores a multi-megabyte blob on tmpfs", "[store]") {
    if (!fs::is_directory("/dev/shm")) {
        WARN("skipped: /dev/shm is missing");
        return;
    }
    check_round_trip("/dev/shm");
}

TEST_CASE("blob_writer stores a small blob and an empty one", "[store]") {
    temp_root root;
    store target(root.path);
    blob_writer small(target);
    const std::string bytes = "twelve bytes";
    small.write(std::as_bytes(std::span(bytes)));
    const digest id = small.commit();
    CHECK(id.str() == "sha256:" + std::string(digest::sha256_of(bytes).hex()));
    CHECK(file_contents(target.blob_path(id)) == bytes);

    blob_writer empty(target);
    const digest none = empty.commit();
    CHECK(none.str() == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(fs::file_size(target.blob_path(none)) == 0);
}

TEST_CASE("blob_writer names the blob by a supplied digest", "[store]") {
    temp_root root;
    store target(root.path);
    const std::string bytes = pattern((std::size_t{2} << 20) + 1);
    const digest id = digest::sha256_of(bytes);
    blob_writer writer(target, blob_durability::deferred, blob_hashing::supplied);
    CHECK(write_in_pieces(writer, bytes, {65536}, id) == id);
    CHECK(file_contents(target.blob_path(id)) == bytes);
}

TEST_CASE("blob_writer with a supplied digest needs it at commit", "[store]") {
    temp_root root;
    store target(root.path);
    blob_writer writer(target, blob_durability::deferred, blob_hashing::supplied);
    const std::string bytes = "data";
    writer.write(std::as_bytes(std::span(bytes)));
    CHECK_THROWS_AS(writer.commit(), std::invalid_argument);
}

TEST_CASE("blob_writer rejects a wrong expected digest and leaves nothing", "[store]") {
    temp_root root;
    store target(root.path);
    const std::string bytes = pattern((std::size_t{1} << 20) + 3);
    const digest wrong = digest::sha256_of(std::string("other"));
    {
        blob_writer writer(target);
        try {
            write_in_pieces(writer, bytes, {4096}, wrong);
            FAIL("commit accepted a wrong digest");
        } catch (const store_error& failure) {
            CHECK(std::string(failure.what()) ==
                  wrong.str() + ": content has digest " + digest::sha256_of(bytes).str());
        }
    }
    CHECK(fs::is_empty(root.path / "tmp"));
    CHECK_FALSE(target.has_blob(wrong));
}
