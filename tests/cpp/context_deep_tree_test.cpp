// The build context walk on deep trees: bounded descriptors below PATH_MAX, and a clear error
// for a path longer than PATH_MAX.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <dockwright/build/context_hash.hpp>
#include <stdexcept>
#include <string>

#include "../../cpp/src/lib/layer/directory_path.hpp"
#include "dockwright/core/error.hpp"
#include "layer_support.hpp"

namespace fs = std::filesystem;
using namespace dockwright;
using dockwright::test::descriptor_limit;
using dockwright::test::temp_dir;

namespace {

// Makes `levels` nested directories "d" below `root` and the empty file "f" at the bottom.
void make_chain(const fs::path& root, int levels) {
    unique_fd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    for (int level = 0; level < levels; ++level) {
        if (::mkdirat(dir.get(), "d", 0755) != 0) throw std::runtime_error("mkdirat");
        dir = unique_fd(::openat(dir.get(), "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!dir) throw std::runtime_error("openat");
    }
    const unique_fd file(::openat(dir.get(), "f", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    if (!file) throw std::runtime_error("create f");
}

void remove_chain(const fs::path& root) {
    const unique_fd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    layer::detail::remove_tree(dir.get(), "d", "d", 64);
}

}  // namespace

TEST_CASE("context walk fits a low descriptor limit") {
    temp_dir root;
    constexpr int levels = 1500;  // 3,000 bytes of path, below PATH_MAX
    make_chain(root.path(), levels);
    std::string bottom;
    for (int level = 0; level < levels; ++level)
        bottom += "d/";
    {
        descriptor_limit limit(128);
        const build_context_index index(root.path());
        const std::vector<std::string> entries = index.entries_below("");
        CHECK(entries.size() == levels + 1);
        CHECK(entries.back() == bottom + "f");
    }
    remove_chain(root.path());
}

TEST_CASE("context walk rejects a path beyond PATH_MAX") {
    temp_dir root;
    make_chain(root.path(), 3000);
    try {
        const build_context_index index(root.path());
        FAIL("a context with a 6,000-byte path was indexed");
    } catch (const error& e) {
        const std::string message = e.what();
        CHECK(message.starts_with("cannot read the directory " + root.path().string() + "/d/d/"));
        CHECK(message.ends_with(": File name too long"));
    }
    remove_chain(root.path());
}
