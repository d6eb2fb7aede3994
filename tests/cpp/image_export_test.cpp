// Tests of export_image(): `-o` parsing, the progress totals and the files each type writes.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <dockwright/build/image_export.hpp>
#include <dockwright/core/error.hpp>
#include <dockwright/layer/layer_writer.hpp>
#include <dockwright/store/archive.hpp>
#include <dockwright/store/store.hpp>
#include <fstream>
#include <vector>

#include "layer_support.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace dockwright;

namespace {

/// Creates the entries whose tar headers differ from a plain ustar block: long names and link
/// targets (PAX records), hard links, a FIFO, a socket (left out) and, where the file system
/// supports them, user extended attributes.
void make_awkward_tree(const fs::path& root) {
    fs::create_directories(root / "etc" / std::string(120, 'd'));
    test::write_text(root / "etc" / "hosts", "127.0.0.1 localhost\n");
    test::write_text(root / "etc" / std::string(120, 'd') / std::string(90, 'f'), "split name");
    test::write_text(root / std::string(200, 'x'), "a name that needs a PAX record");
    test::write_text(root / "data", std::string(70'000, 'z'));
    fs::create_hard_link(root / "data", root / "data-link");
    fs::create_symlink(std::string(150, 't'), root / "long-target");
    fs::create_symlink("etc/hosts", root / "short-target");
    REQUIRE(::mkfifo((root / "fifo").c_str(), 0600) == 0);
    test::write_text(root / "empty", "");
    ::setxattr((root / "etc" / "hosts").c_str(), "user.note", "kept in the layer", 17, 0);

    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::string socket_path = (root / "socket").string();
    if (socket_path.size() < sizeof address.sun_path) {
        std::copy(socket_path.begin(), socket_path.end(), address.sun_path);
        ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
    }
    ::close(fd);
}

/// Imports a one-layer image whose root filesystem is `tree`, and returns its ID.
digest import_tree(store& images, const fs::path& tree, const fs::path& work) {
    const fs::path tar = work / "rootfs.tar";
    {
        std::ofstream out(tar, std::ios::binary);
        layer::string_sink bytes;
        layer::write_tree_layer(tree, bytes);
        out << bytes.data();
    }
    return import_rootfs(images, tar);
}

/// Collects the progress events of a sink.
struct recorded_progress {
    std::vector<build_progress> events;

    build_event_sink sink() {
        return [this](const build_event& event) {
            REQUIRE(event.kind == build_event_kind::progress);
            events.push_back(event.progress);
        };
    }
};

/// Adds up the sizes of the regular files under `root`, as `du -b` over files only does.
std::uint64_t regular_bytes(const fs::path& root) {
    std::uint64_t total = 0;
    for (const auto& item : fs::recursive_directory_iterator(root)) {
        if (item.is_regular_file() && !item.is_symlink()) total += item.file_size();
    }
    return total;
}

}  // namespace

TEST_CASE("export request parses -o values", "[export]") {
    const export_request bare = parse_export_request("out/dir");
    CHECK(bare.type == "local");
    CHECK(bare.dest == "out/dir");

    const export_request oci = parse_export_request("type=oci,dest=image.tar");
    CHECK(oci.type == "oci");
    CHECK(oci.dest == "image.tar");

    const export_request docker = parse_export_request("type=docker");
    CHECK(docker.type == "docker");
    CHECK(docker.dest.empty());
    CHECK(export_task_name(oci) == "export oci");
}

TEST_CASE("export request rejects bad values", "[export]") {
    CHECK_THROWS_WITH(parse_export_request("type=zip,dest=x"),
                      "invalid output 'type=zip,dest=x': unknown output type zip (use docker, "
                      "oci, tar, local, registry or image)");
    CHECK_THROWS_WITH(parse_export_request("type=tar"),
                      "invalid output 'type=tar': type=tar needs dest=PATH");
    CHECK_THROWS_WITH(parse_export_request("type=oci,dest=x,mode=max"),
                      "invalid output 'type=oci,dest=x,mode=max': unknown key mode (use "
                      "type=docker|oci|tar|local|registry,dest=PATH)");
    CHECK_THROWS_AS(parse_export_request("type=local"), invalid_value_error);
}

TEST_CASE("tree tar size equals written tar", "[export]") {
    test::temp_dir dir;
    const fs::path root = dir.path() / "root";
    make_awkward_tree(root);
    layer::string_sink written;
    const layer::layer_info info = layer::write_tree_layer(root, written);
    CHECK(tree_tar_size(root) == written.data().size());
    CHECK(tree_tar_size(root) == info.tar_size);
}

TEST_CASE("tree tar size of an empty tree", "[export]") {
    test::temp_dir dir;
    layer::string_sink written;
    layer::write_tree_layer(dir.path(), written);
    CHECK(tree_tar_size(dir.path()) == 1024);
    CHECK(written.data().size() == 1024);
}

TEST_CASE("exports report the bytes they write", "[export]") {
    test::temp_dir dir;
    make_awkward_tree(dir.path() / "tree");
    store images(dir.path() / "store");
    const digest id = import_tree(images, dir.path() / "tree", dir.path());

    struct expected_output {
        std::string type;
        fs::path dest;
    };
    const std::vector<expected_output> cases{
        {"docker", dir.path() / "docker.tar"}, {"oci", dir.path() / "oci.tar"},
        {"oci", dir.path() / "layout/"},       {"tar", dir.path() / "rootfs.tar"},
        {"local", dir.path() / "rootfs"},
    };
    for (const expected_output& out : cases) {
        INFO(out.type << " to " << out.dest);
        recorded_progress progress;
        const std::uint64_t bytes = export_image(images, id, {out.type, out.dest}, progress.sink());
        REQUIRE(progress.events.size() >= 2);
        const build_progress& first = progress.events.front();
        const build_progress& last = progress.events.back();
        CHECK(first.task == "export " + out.type);
        CHECK(first.current == 0);
        CHECK(first.total == bytes);
        CHECK_FALSE(first.finished);
        CHECK(last.finished);
        CHECK(last.current == bytes);
        CHECK(last.total == bytes);
        for (const build_progress& event : progress.events)
            CHECK(event.total == bytes);

        if (out.type == "local") {
            CHECK(bytes == regular_bytes(out.dest));
            CHECK(test::read_file(out.dest / "etc" / "hosts") == "127.0.0.1 localhost\n");
            CHECK(fs::read_symlink(out.dest / "short-target") == "etc/hosts");
            CHECK(fs::is_fifo(out.dest / "fifo"));
            CHECK_FALSE(fs::exists(out.dest / "socket"));
        } else if (fs::is_directory(out.dest)) {
            std::uint64_t files = 0;
            for (const auto& item : fs::recursive_directory_iterator(out.dest)) {
                if (item.is_regular_file()) files += item.file_size();
            }
            CHECK(bytes == files);
        } else {
            CHECK(bytes == fs::file_size(out.dest));
        }
    }
}

TEST_CASE("local export replaces planted symlinks", "[export]") {
    test::temp_dir dir;
    fs::create_directories(dir.path() / "tree" / "etc");
    test::write_text(dir.path() / "tree" / "etc" / "passwd", "root:x:0:0::/root:/bin/sh\n");
    store images(dir.path() / "store");
    const digest id = import_tree(images, dir.path() / "tree", dir.path());

    // A symlink planted where the export writes a directory is replaced, not followed.
    fs::create_directories(dir.path() / "out");
    fs::create_directories(dir.path() / "elsewhere");
    fs::create_directory_symlink(dir.path() / "elsewhere", dir.path() / "out" / "etc");
    export_image(images, id, {"local", dir.path() / "out"});
    CHECK_FALSE(fs::exists(dir.path() / "elsewhere" / "passwd"));
    CHECK_FALSE(fs::is_symlink(dir.path() / "out" / "etc"));
    CHECK(test::read_file(dir.path() / "out" / "etc" / "passwd") == "root:x:0:0::/root:/bin/sh\n");
}

TEST_CASE("save progress ends at the archive size", "[export]") {
    test::temp_dir dir;
    make_awkward_tree(dir.path() / "tree");
    store images(dir.path() / "store");
    const digest id = import_tree(images, dir.path() / "tree", dir.path());
    std::vector<std::pair<std::uint64_t, std::uint64_t>> calls;
    const std::vector<std::string> names{id.str()};
    save_archive(
        images, names, dir.path() / "out.tar", archive_format::docker, layer::compression::none,
        [&](std::uint64_t written, std::uint64_t total) { calls.emplace_back(written, total); });
    const std::uint64_t size = fs::file_size(dir.path() / "out.tar");
    REQUIRE(calls.size() >= 2);
    CHECK(calls.front() == std::pair<std::uint64_t, std::uint64_t>(0, size));
    CHECK(calls.back() == std::pair<std::uint64_t, std::uint64_t>(size, size));
}
