// The build context index: tarsum entry hashes and the metadata-keyed hash cache.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <dockwright/build/context_hash.hpp>
#include <dockwright/core/digest.hpp>

#include "layer_support.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace dockwright;
using dockwright::test::temp_dir;
using dockwright::test::write_text;

namespace {

/// Computes the tarsum v1 entry hash of a regular file of mode 0644 from its definition.
std::string expected_file_hash(const std::string& name, const std::string& content) {
    return std::string(digest::sha256_of("name" + name + "mode420uid0gid0size" +
                                         std::to_string(content.size()) +
                                         "typeflag0linknameunamegnamedevmajor0devminor0" + content)
                           .hex());
}

struct cache_state {
    ino_t inode;
    std::string text;
};

cache_state read_cache(const fs::path& path) {
    struct stat info {};
    REQUIRE(::stat(path.c_str(), &info) == 0);
    return {info.st_ino, dockwright::test::read_file(path)};
}

}  // namespace

TEST_CASE("context index hashes a file as tarsum does") {
    temp_dir root;
    fs::create_directories(root / "src");
    write_text(root / "src/a.txt", "hello");
    ::chmod((root / "src/a.txt").c_str(), 0644);
    const build_context_index index(root.path());
    CHECK(index.entry_hash("src/a.txt") == expected_file_hash("src/a.txt", "hello"));
    CHECK(index.entry_hash("missing") == "missing");
}

TEST_CASE("context hash cache is kept as it is when nothing changed") {
    temp_dir root;
    temp_dir state;
    const fs::path cache = state / "context-hashes";
    write_text(root / "a.txt", "one");
    write_text(root / "b.txt", "two");
    ::chmod((root / "a.txt").c_str(), 0644);
    ::chmod((root / "b.txt").c_str(), 0644);
    { const build_context_index first(root.path(), cache); }
    const cache_state before = read_cache(cache);
    CHECK(std::count(before.text.begin(), before.text.end(), '\n') == 2);

    {
        const build_context_index again(root.path(), cache);
        CHECK(again.entry_hash("a.txt") == expected_file_hash("a.txt", "one"));
    }
    // Not rewritten: the rename of a new file would have given another inode.
    CHECK(read_cache(cache).inode == before.inode);

    write_text(root / "a.txt", "changed");
    {
        const build_context_index changed(root.path(), cache);
        CHECK(changed.entry_hash("a.txt") == expected_file_hash("a.txt", "changed"));
    }
    const cache_state after = read_cache(cache);
    CHECK(after.inode != before.inode);
    CHECK(after.text.find(expected_file_hash("a.txt", "changed")) != std::string::npos);
    CHECK(after.text.find(expected_file_hash("a.txt", "one")) == std::string::npos);

    fs::remove(root / "b.txt");
    { const build_context_index fewer(root.path(), cache); }
    const cache_state last = read_cache(cache);
    CHECK(std::count(last.text.begin(), last.text.end(), '\n') == 1);
    CHECK(last.text.find(expected_file_hash("b.txt", "two")) == std::string::npos);
}
