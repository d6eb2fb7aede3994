// file_copier: exact bytes within and across file systems, from a pipe, early ends, progress.
#include "../../cpp/src/lib/core/file_copy.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "../../cpp/src/lib/core/unique_fd.hpp"
#include "layer_support.hpp"
#include "support.hpp"

namespace {

namespace fs = std::filesystem;
using dockwright::unique_fd;
using dockwright::detail::file_copier;
using dockwright::detail::file_copy_error;
using dockwright::detail::file_copy_step;
using dockwright::test::read_file;
using dockwright::test::temp_dir;
using dockwright::test::write_text;

constexpr std::uint64_t mib = 1 << 20;

/// Returns `size` bytes that differ from one offset to the next, so a shifted or repeated
/// piece shows up in a comparison.
std::string pattern(std::uint64_t size) {
    std::string bytes(size, '\0');
    std::uint32_t state = 2463534242U;
    for (char& byte : bytes) {
        state ^= state << 13U;
        state ^= state >> 17U;
        state ^= state << 5U;
        byte = static_cast<char>(state);
    }
    return bytes;
}

unique_fd open_source(const fs::path& path) {
    unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw std::runtime_error("cannot open " + path.string());
    return fd;
}

unique_fd create_target(const fs::path& path) {
    unique_fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd) throw std::runtime_error("cannot create " + path.string());
    return fd;
}

/// A fresh directory on the tmpfs /dev/shm, removed with its contents on destruction.
class shm_dir {
  public:
    shm_dir() {
        std::string name = "/dev/shm/dw-copy-XXXXXX";
        if (::mkdtemp(name.data()) != nullptr) path_ = name;
    }
    shm_dir(const shm_dir&) = delete;
    shm_dir& operator=(const shm_dir&) = delete;
    ~shm_dir() {
        std::error_code ignored;
        if (!path_.empty()) fs::remove_all(path_, ignored);
    }
    [[nodiscard]] const fs::path& path() const noexcept { return path_; }

  private:
    fs::path path_;
};

bool same_file_system(const fs::path& a, const fs::path& b) {
    struct stat first {};
    struct stat second {};
    return ::stat(a.c_str(), &first) == 0 && ::stat(b.c_str(), &second) == 0 &&
           first.st_dev == second.st_dev;
}

/// A pipe whose read end the test uses. A thread writes `bytes` into it and closes the write
/// end.
class pipe_feeder {
  public:
    explicit pipe_feeder(std::string bytes) {
        int ends[2];
        if (::pipe2(ends, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
        read_end_.reset(ends[0]);
        unique_fd write_end(ends[1]);
        writer_ = std::thread([data = std::move(bytes), out = std::move(write_end)] {
            for (std::size_t done = 0; done < data.size();) {
                const ssize_t n = ::write(out.get(), data.data() + done, data.size() - done);
                if (n <= 0) return;
                done += static_cast<std::size_t>(n);
            }
        });
    }
    pipe_feeder(const pipe_feeder&) = delete;
    pipe_feeder& operator=(const pipe_feeder&) = delete;
    ~pipe_feeder() {
        read_end_.reset();  // a writer blocked on a full pipe gets EPIPE
        writer_.join();
    }
    [[nodiscard]] int read_fd() const noexcept { return read_end_.get(); }

  private:
    unique_fd read_end_;
    std::thread writer_;
};

const std::vector<std::uint64_t> sizes = {0, 1, mib + 1};

}  // namespace

TEST_CASE("file copy within one file system") {
    temp_dir dir;
    file_copier copier;
    for (const std::uint64_t size : sizes) {
        INFO("size " << size);
        const std::string bytes = pattern(size);
        const fs::path source = dir / ("source-" + std::to_string(size));
        const fs::path target = dir / ("target-" + std::to_string(size));
        write_text(source, bytes);
        {
            const unique_fd in = open_source(source);
            const unique_fd out = create_target(target);
            copier.copy_exactly(in.get(), out.get(), size, source, target);
        }
        CHECK(read_file(target) == bytes);

        const fs::path again = dir / ("again-" + std::to_string(size));
        {
            const unique_fd in = open_source(source);
            const unique_fd out = create_target(again);
            CHECK(copier.copy_to_end(in.get(), out.get(), source, again) == size);
        }
        CHECK(read_file(again) == bytes);
    }
}

TEST_CASE("file copy across file systems") {
    shm_dir shm;
    temp_dir disk;
    if (shm.path().empty() || same_file_system(shm.path(), disk.path())) {
        WARN("skipped: needs a directory on /dev/shm on another file system than " +
             disk.path().string());
        return;
    }
    file_copier copier;
    for (const std::uint64_t size : sizes) {
        INFO("size " << size);
        const std::string bytes = pattern(size);
        const fs::path source = shm.path() / ("source-" + std::to_string(size));
        const fs::path target = disk / ("target-" + std::to_string(size));
        const fs::path back = shm.path() / ("back-" + std::to_string(size));
        write_text(source, bytes);
        {
            const unique_fd in = open_source(source);
            const unique_fd out = create_target(target);
            copier.copy_exactly(in.get(), out.get(), size, source, target);
        }
        CHECK(read_file(target) == bytes);
        {
            const unique_fd in = open_source(target);
            const unique_fd out = create_target(back);
            CHECK(copier.copy_to_end(in.get(), out.get(), target, back) == size);
        }
        CHECK(read_file(back) == bytes);
    }
    // Linux 5.3 to 5.11 copy between any file systems with copy_file_range(), so the fallback
    // is only certain to run on other kernels.
    if (!copier.copy_file_range_rejected()) {
        WARN("this kernel copied from tmpfs to " + disk.path().string() +
             " with copy_file_range(), so the fallback did not run");
    }
}

TEST_CASE("file copy from a pipe") {
    temp_dir dir;
    const std::string bytes = pattern(mib + 1);
    const fs::path target = dir / "target";
    {
        pipe_feeder feeder(bytes);
        const unique_fd out = create_target(target);
        file_copier copier;
        CHECK(copier.copy_to_end(feeder.read_fd(), out.get(), "pipe", target) == bytes.size());
        CHECK(copier.copy_file_range_rejected());
    }
    CHECK(read_file(target) == bytes);
}

TEST_CASE("file copy reuses a copier after a rejection") {
    temp_dir dir;
    file_copier copier;
    {
        pipe_feeder feeder("first");
        const unique_fd out = create_target(dir / "first");
        copier.copy_exactly(feeder.read_fd(), out.get(), 5, "pipe", dir / "first");
    }
    REQUIRE(copier.copy_file_range_rejected());
    const std::string bytes = pattern(mib + 1);
    write_text(dir / "source", bytes);
    {
        const unique_fd in = open_source(dir / "source");
        const unique_fd out = create_target(dir / "second");
        copier.copy_exactly(in.get(), out.get(), bytes.size(), dir / "source", dir / "second");
    }
    CHECK(read_file(dir / "first") == "first");
    CHECK(read_file(dir / "second") == bytes);
}

TEST_CASE("file copy reports a source that ends early") {
    temp_dir dir;
    const fs::path source = dir / "source";
    const fs::path target = dir / "target";
    write_text(source, pattern(40));
    const unique_fd in = open_source(source);
    const unique_fd out = create_target(target);
    file_copier copier;
    try {
        copier.copy_exactly(in.get(), out.get(), 100, source, target);
        FAIL("a copy of 100 bytes from a file of 40 succeeded");
    } catch (const file_copy_error& failure) {
        CHECK(std::string(failure.what()) ==
              source.string() + " shrank while it was copied: expected 100 bytes, got 40");
        CHECK(failure.step() == file_copy_step::ended_early);
        CHECK(failure.path() == source);
        CHECK(failure.reason() == "shrank while it was copied: expected 100 bytes, got 40");
    }
    CHECK(read_file(target) == pattern(40));
}

TEST_CASE("file copy reports a pipe that ends early") {
    temp_dir dir;
    pipe_feeder feeder("four");
    const unique_fd out = create_target(dir / "target");
    file_copier copier;
    CHECK_THROWS_WITH(copier.copy_exactly(feeder.read_fd(), out.get(), 10, "pipe", dir / "target"),
                      "pipe shrank while it was copied: expected 10 bytes, got 4");
}

TEST_CASE("file copy stops at the requested size") {
    temp_dir dir;
    const std::string bytes = pattern(100);
    write_text(dir / "source", bytes);
    const unique_fd in = open_source(dir / "source");
    {
        const unique_fd out = create_target(dir / "target");
        file_copier copier;
        copier.copy_exactly(in.get(), out.get(), 40, dir / "source", dir / "target");
    }
    CHECK(read_file(dir / "target") == bytes.substr(0, 40));
    CHECK(::lseek(in.get(), 0, SEEK_CUR) == 40);
}

TEST_CASE("file copy names both files when the kernel call fails") {
    temp_dir dir;
    write_text(dir / "source", "data");
    write_text(dir / "target", "");
    const unique_fd in = open_source(dir / "source");
    const unique_fd read_only = open_source(dir / "target");
    file_copier copier;
    try {
        copier.copy_to_end(in.get(), read_only.get(), dir / "source", dir / "target");
        FAIL("a copy into a read-only descriptor succeeded");
    } catch (const file_copy_error& failure) {
        CHECK(std::string(failure.what()) == "cannot copy " + (dir / "source").string() + " to " +
                                                 (dir / "target").string() +
                                                 ": Bad file descriptor");
        CHECK(failure.step() == file_copy_step::copy);
        CHECK(failure.path() == dir / "source");
    }
}

TEST_CASE("file copy reports every piece") {
    temp_dir dir;
    shm_dir shm;
    const std::uint64_t size = 20 * mib + 1;
    const std::string bytes = pattern(size);
    std::vector<fs::path> sources = {dir / "source"};
    if (!shm.path().empty()) sources.push_back(shm.path() / "source");
    for (std::size_t index = 0; index < sources.size(); ++index) {
        const fs::path& source = sources[index];
        INFO("source " << source);
        write_text(source, bytes);
        const fs::path target = dir / ("target-" + std::to_string(index));
        std::vector<std::uint64_t> pieces;
        {
            const unique_fd in = open_source(source);
            const unique_fd out = create_target(target);
            file_copier copier;
            copier.copy_exactly(
                in.get(), out.get(), size, source, target,
                [&](std::uint64_t bytes_copied) { pieces.push_back(bytes_copied); });
        }
        CHECK(std::accumulate(pieces.begin(), pieces.end(), std::uint64_t{0}) == size);
        CHECK(pieces.size() >= 3);
        CHECK(*std::max_element(pieces.begin(), pieces.end()) <= 8 * mib);
        CHECK(read_file(target) == bytes);
    }
}

TEST_CASE("file copy stops when progress throws") {
    temp_dir dir;
    const std::uint64_t size = 20 * mib;
    write_text(dir / "source", pattern(size));
    const unique_fd in = open_source(dir / "source");
    const unique_fd out = create_target(dir / "target");
    file_copier copier;
    std::uint64_t reported = 0;
    const auto cancel = [&](std::uint64_t bytes) {
        reported += bytes;
        throw std::runtime_error("cancelled");
    };
    CHECK_THROWS_WITH(
        copier.copy_to_end(in.get(), out.get(), dir / "source", dir / "target", cancel),
        "cancelled");
    CHECK(reported > 0);
    CHECK(reported < size);
    CHECK(fs::file_size(dir / "target") == reported);
}
