// Trees deeper than the descriptor limit and longer than PATH_MAX: layer writing, applying,
// whiteouts and the bounded directory chain behind them. Every tree here is made with
// mkdirat/openat, because a path to its bottom is longer than PATH_MAX.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <climits>
#include <fstream>
#include <string>
#include <vector>

#include "../../cpp/src/lib/layer/directory_path.hpp"
#include "dockwright/layer/apply.hpp"
#include "dockwright/layer/layer_error.hpp"
#include "dockwright/layer/layer_writer.hpp"
#include "layer_support.hpp"

namespace fs = std::filesystem;
using namespace dockwright;
using namespace dockwright::layer;
using dockwright::test::descriptor_limit;
using dockwright::test::parse_tar;
using dockwright::test::raw_entry;
using dockwright::test::temp_dir;

namespace {

constexpr int deep_levels = 3000;
constexpr long bottom_mtime = 1'600'000'000;

unique_fd open_dir(int parent, const char* name) {
    unique_fd fd(::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) throw std::runtime_error(std::string("openat failed: ") + name);
    return fd;
}

// Makes `levels` nested directories "d" below `root`. Each level also gets the file "z"
// holding its depth, which sorts after "d" so that the walk returns to every level, and the
// bottom directory gets the symlink "link" -> "target" and the mtime `bottom_mtime`.
void make_deep_tree(const fs::path& root, int levels) {
    unique_fd dir = open_dir(AT_FDCWD, root.c_str());
    for (int level = 0; level < levels; ++level) {
        const std::string depth = std::to_string(level);
        unique_fd file(::openat(dir.get(), "z", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
        if (!file || ::write(file.get(), depth.data(), depth.size()) < 0) {
            throw std::runtime_error("cannot write z at level " + depth);
        }
        if (::mkdirat(dir.get(), "d", 0755) != 0) throw std::runtime_error("mkdirat " + depth);
        dir = open_dir(dir.get(), "d");
    }
    if (::symlinkat("target", dir.get(), "link") != 0) throw std::runtime_error("symlinkat");
    const timespec times[2] = {{bottom_mtime, 0}, {bottom_mtime, 0}};
    if (::futimens(dir.get(), times) != 0) throw std::runtime_error("futimens");
}

// Removes a tree below `root` that std::filesystem::remove_all might not reach.
void remove_deep(const fs::path& root, const std::string& name) {
    unique_fd dir = open_dir(AT_FDCWD, root.c_str());
    layer::detail::remove_tree(dir.get(), name, name, 64);
}

std::string deep_name(int levels, const std::string& last) {
    std::string name;
    for (int level = 0; level < levels; ++level)
        name += "d/";
    return name + last;
}

void write_bytes(const fs::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
}

}  // namespace

TEST_CASE("deep tree layer holds every level") {
    temp_dir work;
    fs::create_directory(work / "tree");
    make_deep_tree(work / "tree", deep_levels);

    string_sink out;
    {
        descriptor_limit limit(256);
        write_tree_layer(work / "tree", out);
    }
    const std::vector<raw_entry> entries = parse_tar(out.data());
    REQUIRE(entries.size() == 2 * deep_levels + 1);
    CHECK(entries.front().name == "d/");
    CHECK(entries.back().name == "z");
    CHECK(entries.back().data == "0");

    const std::string bottom = deep_name(deep_levels, "");
    CHECK(bottom.size() > PATH_MAX);
    CHECK(entries[deep_levels - 1].type == '5');
    CHECK(entries[deep_levels - 1].pax.at("path") == bottom);
    const raw_entry& link = entries[deep_levels];
    CHECK(link.type == '2');
    CHECK(link.pax.at("path") == bottom + "link");
    CHECK(link.linkname == "target");
    // The file of the level above the bottom comes right after the symlink.
    CHECK(entries[deep_levels + 1].pax.at("path") == deep_name(deep_levels - 1, "z"));
    CHECK(entries[deep_levels + 1].data == std::to_string(deep_levels - 1));
    remove_deep(work.path(), "tree");
}

TEST_CASE("deep tree layer applies back") {
    temp_dir work;
    fs::create_directory(work / "tree");
    make_deep_tree(work / "tree", deep_levels);
    string_sink out;
    write_tree_layer(work / "tree", out);
    write_bytes(work / "layer.tar", out.data());
    remove_deep(work.path(), "tree");

    fs::create_directory(work / "target");
    const apply_result result = [&] {
        descriptor_limit limit(256);
        return apply_layer(work / "layer.tar", work / "target");
    }();
    CHECK(result.entries == 2 * deep_levels + 1);

    unique_fd dir = open_dir(AT_FDCWD, (work / "target").c_str());
    for (int level = 0; level < deep_levels; ++level) {
        struct stat info {};
        REQUIRE(::fstatat(dir.get(), "z", &info, AT_SYMLINK_NOFOLLOW) == 0);
        CHECK(info.st_size == static_cast<off_t>(std::to_string(level).size()));
        dir = open_dir(dir.get(), "d");
    }
    char target[16] = {};
    CHECK(::readlinkat(dir.get(), "link", target, sizeof target) == 6);
    CHECK(std::string(target) == "target");
    struct stat bottom {};
    REQUIRE(::fstat(dir.get(), &bottom) == 0);
    CHECK(bottom.st_mtim.tv_sec == bottom_mtime);

    // A whiteout of the top directory removes all levels below the limit too.
    string_sink whiteout;
    write_changes_layer(work / "target", {{"d", change_kind::deleted}}, whiteout);
    write_bytes(work / "whiteout.tar", whiteout.data());
    {
        descriptor_limit limit(256);
        apply_layer(work / "whiteout.tar", work / "target");
    }
    CHECK_FALSE(fs::exists(fs::symlink_status(work / "target/d")));
    CHECK(fs::exists(work / "target/z"));
}

TEST_CASE("deep opaque directory keeps unpacked levels") {
    temp_dir work;
    fs::create_directories(work / "source/o");
    make_deep_tree(work / "source/o", deep_levels);
    string_sink tree;
    write_tree_layer(work / "source", tree);
    remove_deep(work.path(), "source");
    fs::create_directories(work / "upper/o");
    string_sink marker;
    write_changes_layer(work / "upper", {{"o", change_kind::opaque}}, marker);
    REQUIRE(parse_tar(marker.data()).at(1).name == "o/.wh..wh..opq");
    // The whole tree, then the opaque marker of "o": the tree's two end-of-archive blocks are
    // cut, so the marker comes after every level was unpacked.
    const std::string& tree_bytes = tree.data();
    write_bytes(work / "opaque.tar",
                tree_bytes.substr(0, tree_bytes.size() - 1024) + marker.data());

    fs::create_directories(work / "target");
    apply_layer(work / "opaque.tar", work / "target");
    unique_fd bottom = open_dir(AT_FDCWD, (work / "target/o").c_str());
    for (int level = 0; level < deep_levels; ++level)
        bottom = open_dir(bottom.get(), "d");
    unique_fd extra(::openat(bottom.get(), "extra", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    REQUIRE(extra);
    extra.reset();

    {
        descriptor_limit limit(256);
        apply_layer(work / "opaque.tar", work / "target");
    }
    struct stat info {};
    CHECK(::fstatat(bottom.get(), "extra", &info, AT_SYMLINK_NOFOLLOW) != 0);
    CHECK(::fstatat(bottom.get(), "link", &info, AT_SYMLINK_NOFOLLOW) == 0);
    CHECK(fs::exists(work / "target/o/z"));
    remove_deep(work / "target", "o");
}

TEST_CASE("directory path reopens closed levels") {
    temp_dir work;
    fs::create_directory(work / "tree");
    make_deep_tree(work / "tree", 40);
    unique_fd root = open_dir(AT_FDCWD, (work / "tree").c_str());

    layer::detail::directory_path path(root.get(), 4);
    for (int level = 0; level < 40; ++level) {
        const int parent = path.top("push");
        struct stat info {};
        REQUIRE(::fstatat(parent, "d", &info, AT_SYMLINK_NOFOLLOW) == 0);
        path.push("d", open_dir(parent, "d"),
                  layer::detail::directory_id{info.st_dev, info.st_ino});
    }
    CHECK(path.depth() == 40);
    // Each level, reopened on the way up, still contains its own "z".
    for (int level = 39; level >= 0; --level) {
        path.pop();
        char depth[8] = {};
        unique_fd file(::openat(path.top("pop"), "z", O_RDONLY | O_CLOEXEC));
        REQUIRE(file);
        REQUIRE(::read(file.get(), depth, sizeof depth - 1) > 0);
        CHECK(std::string(depth) == std::to_string(level));
    }
    CHECK(path.depth() == 0);
    CHECK(path.top("root") == root.get());
}

TEST_CASE("directory path rejects a replaced level") {
    temp_dir work;
    fs::create_directory(work / "tree");
    make_deep_tree(work / "tree", 3);
    unique_fd root = open_dir(AT_FDCWD, (work / "tree").c_str());

    layer::detail::directory_path path(root.get(), 2);
    for (int level = 0; level < 3; ++level) {
        const int parent = path.top("push");
        struct stat info {};
        REQUIRE(::fstatat(parent, "d", &info, AT_SYMLINK_NOFOLLOW) == 0);
        path.push("d", open_dir(parent, "d"),
                  layer::detail::directory_id{info.st_dev, info.st_ino});
    }
    // Levels 1 and 2 stay open; level 0 ("d") was closed and is replaced now.
    fs::rename(work / "tree/d", work / "tree/old");
    fs::create_directory(work / "tree/d");
    path.pop();
    path.pop();
    CHECK_THROWS_MATCHES(path.top("d/x"), layer_error,
                         Catch::Message("layer entry 'd/x': directory 'd' was replaced while the "
                                        "tree was read"));
    remove_deep(work.path(), "tree");
}

TEST_CASE("remove tree deletes a deep chain") {
    temp_dir work;
    fs::create_directory(work / "tree");
    make_deep_tree(work / "tree", deep_levels);
    {
        descriptor_limit limit(96);
        remove_deep(work.path(), "tree");
    }
    CHECK_FALSE(fs::exists(work / "tree"));
}
