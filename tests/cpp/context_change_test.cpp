// Context files that change after the index listed them, deep context trees, and build
// scratch left by a killed build: what build_context_index and store::prune do about them.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <dockwright/build/context_hash.hpp>
#include <dockwright/core/error.hpp>
#include <dockwright/store/store.hpp>
#include <fstream>
#include <thread>

#include "layer_support.hpp"

namespace fs = std::filesystem;
using namespace dockwright;
using dockwright::test::temp_dir;
using dockwright::test::write_text;

namespace {

/// A file opened for reading, closed on destruction.
class read_only_file {
  public:
    explicit read_only_file(const fs::path& path)
        : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
        REQUIRE(fd_ >= 0);
    }
    read_only_file(const read_only_file&) = delete;
    read_only_file& operator=(const read_only_file&) = delete;
    ~read_only_file() { ::close(fd_); }

    [[nodiscard]] int get() const noexcept { return fd_; }

  private:
    int fd_;
};

const std::string changed_message =
    "the build context file data.bin changed after the context was hashed, so its hash no "
    "longer matches its bytes; build again once it no longer changes";

}  // namespace

TEST_CASE("unchanged context file passes the check") {
    temp_dir root;
    write_text(root / "data.bin", "original");
    const build_context_index index(root.path());
    const read_only_file file(root / "data.bin");
    CHECK_NOTHROW(index.check_unchanged("data.bin", file.get()));
}

TEST_CASE("context file written after indexing fails the check") {
    temp_dir root;
    write_text(root / "data.bin", "original");
    const build_context_index index(root.path());
    // The new bytes have the same size, so only the change time differs. Kernels before 6.13
    // keep ctime in clock ticks of up to 10 ms, so the write waits longer than one tick.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    {
        std::fstream out(root / "data.bin", std::ios::in | std::ios::out | std::ios::binary);
        out << "changed!";
    }
    const read_only_file file(root / "data.bin");
    CHECK_THROWS_WITH(index.check_unchanged("data.bin", file.get()), changed_message);
}

TEST_CASE("context file replaced by rename fails the check") {
    temp_dir root;
    write_text(root / "data.bin", "original");
    const build_context_index index(root.path());
    write_text(root / "new.bin", "original");
    fs::rename(root / "new.bin", root / "data.bin");
    const read_only_file file(root / "data.bin");
    CHECK_THROWS_WITH(index.check_unchanged("data.bin", file.get()), changed_message);
}

TEST_CASE("path the index does not list is not checked") {
    temp_dir root;
    write_text(root / "data.bin", "original");
    const build_context_index index(root.path());
    write_text(root / "later.bin", "made after the walk");
    const read_only_file file(root / "later.bin");
    CHECK_NOTHROW(index.check_unchanged("later.bin", file.get()));
}

TEST_CASE("prune removes scratch a killed build left") {
    temp_dir work;
    store target(work / "store");
    const fs::path scratch = work / "dockwright-build-abc123";
    fs::create_directories(scratch / "0123456789abcdef/upper");
    write_text(scratch / "0123456789abcdef/upper/big.bin", "layer data");
    fs::create_directory_symlink(scratch, work / "store/tmp/scratch-0123456789abcdef");

    const prune_report report = target.prune();
    CHECK_FALSE(fs::exists(fs::symlink_status(scratch)));
    CHECK(fs::is_empty(work / "store/tmp"));
    CHECK(report.temporary_files == 1);
}

TEST_CASE("prune keeps a target not named as scratch") {
    temp_dir work;
    store target(work / "store");
    const fs::path other = work / "precious";
    fs::create_directories(other);
    write_text(other / "keep.txt", "keep");
    fs::create_directory_symlink(other, work / "store/tmp/scratch-0123456789abcdef");

    target.prune();
    CHECK(fs::exists(other / "keep.txt"));
    CHECK(fs::is_empty(work / "store/tmp"));
}

TEST_CASE("context index walks a tree deeper than the descriptor limit") {
    temp_dir root;
    fs::path deepest = root.path();
    for (int level = 0; level < 200; ++level)
        deepest /= "a";
    fs::create_directories(deepest);
    write_text(deepest / "leaf.txt", "leaf");

    // A soft limit of 64 open files, restored on the way out: a walk that kept one descriptor
    // per level fails with EMFILE.
    struct rlimit saved {};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
    struct restore_limit {
        struct rlimit limit;
        ~restore_limit() { ::setrlimit(RLIMIT_NOFILE, &limit); }
    } restore{saved};
    struct rlimit lowered = saved;
    lowered.rlim_cur = 64;
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &lowered) == 0);

    const build_context_index index(root.path());
    std::string leaf;
    for (int level = 0; level < 200; ++level)
        leaf += "a/";
    leaf += "leaf.txt";
    const std::vector<std::string> below = index.entries_below("");
    CHECK(below.size() == 201);
    CHECK(below.back() == leaf);
}
