// Applying layers: round trips, whiteouts and opaque directories, and a corpus of hostile
// archives that must be rejected without writing outside the target.
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <functional>

#include "dockwright/layer/apply.hpp"
#include "dockwright/layer/compression.hpp"
#include "dockwright/layer/layer_error.hpp"
#include "dockwright/layer/layer_writer.hpp"
#include "dockwright/layer/tar_writer.hpp"
#include "layer_support.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace dockwright;
using namespace dockwright::layer;
using dockwright::test::listing;
using dockwright::test::parse_tar;
using dockwright::test::set_mtime;
using dockwright::test::temp_dir;
using dockwright::test::write_text;

namespace {

tar_entry file_entry(const std::string& name, const std::string& data = "") {
    tar_entry entry;
    entry.name = name;
    entry.mode = 0100644;
    entry.size = static_cast<std::int64_t>(data.size());
    entry.mtime = 1700000000;
    return entry;
}

tar_entry dir_entry(const std::string& name) {
    tar_entry entry;
    entry.name = name;
    entry.type = entry_type::directory;
    entry.mode = 040755;
    entry.mtime = 1700000000;
    return entry;
}

tar_entry link_entry(const std::string& name, entry_type type, const std::string& target) {
    tar_entry entry;
    entry.name = name;
    entry.type = type;
    entry.mode = type == entry_type::symlink ? 0120777 : 0100644;
    entry.linkname = target;
    return entry;
}

// Writes a tar of `entries`, each regular file followed by `size` bytes of 'x'.
std::string make_tar(const std::vector<tar_entry>& entries) {
    string_sink out;
    tar_writer tar(out);
    for (const tar_entry& entry : entries) {
        tar.write_header(entry);
        if (entry.type == entry_type::regular) {
            const std::string data(static_cast<std::size_t>(entry.size), 'x');
            tar.write_data(std::as_bytes(std::span(data)));
        }
    }
    tar.close();
    return out.data();
}

std::string gzip(const std::string& tar) {
    string_sink out;
    auto compressor = make_compressor({compression::gzip, 1, 1}, out);
    compressor->write(tar);
    compressor->finish();
    return out.data();
}

apply_result apply_bytes(const std::string& bytes, const fs::path& target,
                         const apply_options& options = {}) {
    temp_dir holder;
    write_text(holder / "layer", bytes);
    return apply_layer(holder / "layer", target, options);
}

// Every path below `root` with its type, to compare a tree before and after.
std::vector<std::string> snapshot(const fs::path& root) {
    std::vector<std::string> items;
    for (const auto& item : fs::recursive_directory_iterator(root)) {
        items.push_back(fs::relative(item.path(), root).string() + " " +
                        std::to_string(static_cast<int>(item.symlink_status().type())));
    }
    std::sort(items.begin(), items.end());
    return items;
}

}  // namespace

TEST_CASE("apply round trips a written tree") {
    temp_dir source;
    temp_dir target;
    fs::create_directories(source / "etc/conf.d");
    write_text(source / "etc/conf.d/a.conf", "setting=1\n");
    write_text(source / "etc/big", std::string(3000000, 'b'));
    fs::create_hard_link(source / "etc/big", source / "etc/big2");
    fs::create_symlink("../etc/big", source / "etc/conf.d/link");
    REQUIRE(::mknod((source / "etc/null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);
    REQUIRE(::mkfifo((source / "etc/fifo").c_str(), 0640) == 0);
    ::chown((source / "etc/conf.d/a.conf").c_str(), 1000, 2000);
    ::chmod((source / "etc/conf.d/a.conf").c_str(), 04711);
    REQUIRE(::setxattr((source / "etc/big").c_str(), "user.tag", "v", 1, 0) == 0);
    set_mtime(source / "etc/conf.d", 1600000000);

    string_sink written;
    const layer_info info = write_tree_layer(source.path(), written);
    const apply_result applied = apply_bytes(written.data(), target.path());
    CHECK(applied.diff_id == info.diff_id);
    CHECK(applied.kind == compression::none);
    CHECK(applied.entries == 8);

    struct stat conf {};
    REQUIRE(::stat((target / "etc/conf.d/a.conf").c_str(), &conf) == 0);
    CHECK((conf.st_mode & 07777) == 04711);
    CHECK(conf.st_uid == 1000);
    CHECK(conf.st_gid == 2000);
    struct stat big {};
    struct stat big2 {};
    REQUIRE(::stat((target / "etc/big").c_str(), &big) == 0);
    REQUIRE(::stat((target / "etc/big2").c_str(), &big2) == 0);
    CHECK(big.st_ino == big2.st_ino);
    CHECK(fs::read_symlink(target / "etc/conf.d/link") == "../etc/big");
    CHECK(fs::is_fifo(target / "etc/fifo"));
    CHECK(fs::is_character_file(target / "etc/null"));
    struct stat dir {};
    REQUIRE(::stat((target / "etc/conf.d").c_str(), &dir) == 0);
    CHECK(dir.st_mtim.tv_sec == 1600000000);
    char value[8] = {};
    CHECK(::getxattr((target / "etc/big").c_str(), "user.tag", value, sizeof value) == 1);

    // Writing the applied tree again gives the same bytes.
    string_sink rewritten;
    CHECK(write_tree_layer(target.path(), rewritten).diff_id == info.diff_id);
}

TEST_CASE("apply reports digests of a gzip layer") {
    temp_dir target;
    const std::string tar = make_tar({dir_entry("d/"), file_entry("d/f", "12345")});
    const std::string packed = gzip(tar);
    const apply_result applied = apply_bytes(packed, target.path());
    CHECK(applied.kind == compression::gzip);
    CHECK(applied.diff_id == digest::sha256_of(tar));
    CHECK(applied.tar_size == tar.size());
    CHECK(applied.compressed_digest == digest::sha256_of(packed));
    CHECK(applied.compressed_size == packed.size());
    CHECK(dockwright::test::read_file(target / "d/f") == "xxxxx");
}

TEST_CASE("apply honours whiteouts and opaque dirs") {
    temp_dir target;
    fs::create_directories(target / "srv/old/deep");
    write_text(target / "srv/old/deep/file", "old");
    write_text(target / "srv/keep-not", "old");
    fs::create_directories(target / "usr/bin");
    write_text(target / "usr/bin/env", "env");
    write_text(target / "usr/bin/other", "other");

    apply_bytes(make_tar({
                    dir_entry("srv/"),
                    file_entry("srv/.wh..wh..opq"),
                    file_entry("srv/new.txt", "new"),
                    dir_entry("usr/"),
                    dir_entry("usr/bin/"),
                    file_entry("usr/bin/.wh.env"),
                    file_entry("usr/bin/.wh.missing"),
                }),
                target.path());
    CHECK(snapshot(target.path()) == std::vector<std::string>{
                                         "srv 2",
                                         "srv/new.txt 1",
                                         "usr 2",
                                         "usr/bin 2",
                                         "usr/bin/other 1",
                                     });
}

TEST_CASE("apply replaces a file with a directory") {
    temp_dir target;
    write_text(target / "a", "file");
    apply_bytes(make_tar({dir_entry("a/"), file_entry("a/b", "1")}), target.path());
    CHECK(fs::is_directory(target / "a"));
    CHECK(dockwright::test::read_file(target / "a/b") == "x");
}

TEST_CASE("apply reads the busybox base image") {
    const auto shared = dockwright::test::shared_dir();
    const fs::path archive = shared ? *shared / "oracle/bases/busybox-local.tar.gz" : fs::path();
    if (!shared || !fs::exists(archive)) {
        WARN("skipped: shared corpus oracle/bases/busybox-local.tar.gz not found");
        return;
    }
    temp_dir saved;
    temp_dir root;
    apply_layer(archive, saved.path());
    const fs::path layer =
        saved / "2951a58c4df1414f34572872bbe6f5cbaadb374f01168b2aa55a27c99a4e81f0/layer.tar";
    const apply_result applied = apply_layer(layer, root.path());
    // The diff ID Docker recorded for busybox:local.
    CHECK(applied.diff_id.str() ==
          "sha256:1632c58ce452243ee93fd825ec4307e9121cf987a4dd7dfdbb5c09116648ef64");
    CHECK(fs::read_symlink(root / "bin/sh") == "busybox");
    CHECK(fs::file_size(root / "bin/busybox") == 1982256);
}

// ---- Hostile archives ------------------------------------------------------------------------

namespace {

struct hostile_case {
    std::string name;
    std::function<std::string()> bytes;
    std::string message;
    apply_options options{};
};

std::string truncated_gzip() {
    std::string packed = gzip(make_tar({file_entry("f", std::string(100000, 'x'))}));
    return packed.substr(0, packed.size() / 2);
}

std::string corrupt_gzip() {
    std::string packed = gzip(make_tar({file_entry("f", std::string(100000, 'x'))}));
    for (std::size_t i = 20; i < 40; ++i)
        packed[i] = static_cast<char>(~packed[i]);
    return packed;
}

// A header claiming 1 TiB of data followed by only one block.
std::string absurd_size() {
    std::string tar = make_tar({file_entry("huge", "y")});
    const std::string size = "20000000000";  // 1 TiB in octal, 11 digits
    tar.replace(124, 11, size);
    tar.replace(148, 8, "        ");
    unsigned sum = 0;
    for (std::size_t i = 0; i < 512; ++i)
        sum += static_cast<unsigned char>(tar[i]);
    char checksum[8];
    std::snprintf(checksum, sizeof checksum, "%06o", sum);
    tar.replace(148, 7, std::string(checksum, 6) + '\0');
    return tar.substr(0, 1024);
}

std::vector<hostile_case> hostile_corpus() {
    apply_options no_devices;
    no_devices.allow_devices = false;
    apply_options small_files;
    small_files.max_file_size = 1000;
    const auto tar = [](std::vector<tar_entry> entries) {
        return [entries] { return make_tar(entries); };
    };
    tar_entry device;
    device.name = "dev/sda";
    device.type = entry_type::block_device;
    device.mode = 060660;
    device.devmajor = 8;
    return {
        {"parent traversal", tar({file_entry("../escape", "x")}),
         "layer entry '../escape': name contains '..'"},
        {"inner traversal", tar({file_entry("a/../../escape", "x")}),
         "layer entry 'a/../../escape': name contains '..'"},
        {"absolute name", tar({file_entry("/OUTSIDE/abs", "x")}),
         "layer entry '/OUTSIDE/abs': name is an absolute path"},
        {"symlink to a relative escape",
         tar({link_entry("evil", entry_type::symlink, "../../OUTSIDE"),
              file_entry("evil/file", "x")}),
         "layer entry 'evil/file': parent 'evil' leads outside the target directory"},
        {"symlink to the target's sibling",
         tar({link_entry("evil", entry_type::symlink, "../OUTSIDE"), file_entry("evil/file", "x")}),
         "layer entry 'evil/file': parent 'evil' leads outside the target directory"},
        {"absolute symlink climbing out",
         tar({link_entry("evil", entry_type::symlink, "/../OUTSIDE"),
              file_entry("evil/file", "x")}),
         "layer entry 'evil/file': parent 'evil' leads outside the target directory"},
        {"symlink chain",
         tar({link_entry("a", entry_type::symlink, "b"),
              link_entry("b", entry_type::symlink, "../OUTSIDE"), file_entry("a/x", "x")}),
         "layer entry 'a/x': parent 'a' leads outside the target directory"},
        {"symlink loop",
         tar({link_entry("a", entry_type::symlink, "b"), link_entry("b", entry_type::symlink, "a"),
              file_entry("a/x", "x")}),
         "layer entry 'a/x': parent 'a' has too many levels of symbolic links"},
        {"directory replaced by a symlink",
         tar({dir_entry("d/"), link_entry("d", entry_type::symlink, "../OUTSIDE"),
              file_entry("d/f", "x")}),
         "layer entry 'd/f': parent 'd' leads outside the target directory"},
        {"symlink to a file as parent",
         tar({file_entry("f", "x"), link_entry("s", entry_type::symlink, "f"),
              file_entry("s/x", "x")}),
         "layer entry 's/x': parent 's' is not a directory"},
        {"hard link to an absolute path",
         tar({link_entry("h", entry_type::hardlink, "/OUTSIDE/secret")}),
         "layer entry 'h': hard link target '/OUTSIDE/secret' is an absolute path"},
        {"hard link traversal", tar({link_entry("h", entry_type::hardlink, "../OUTSIDE/secret")}),
         "layer entry 'h': hard link target '../OUTSIDE/secret' contains '..'"},
        {"hard link through a symlink",
         tar({link_entry("s", entry_type::symlink, "../OUTSIDE"),
              link_entry("h", entry_type::hardlink, "s/secret")}),
         "layer entry 'h': hard link target 's/secret' leads outside the target directory"},
        {"hard link through an absolute symlink",
         tar({link_entry("s", entry_type::symlink, "/OUTSIDE"),
              link_entry("h", entry_type::hardlink, "s/secret")}),
         "layer entry 'h': hard link target 's/secret' not found"},
        {"hard link to a missing file", tar({link_entry("h", entry_type::hardlink, "nothing")}),
         "layer entry 'h': hard link target 'nothing' not found"},
        {"hard link to a directory",
         tar({dir_entry("d/"), link_entry("h", entry_type::hardlink, "d")}),
         "layer entry 'h': hard link target 'd' is a directory"},
        {"whiteout through a symlink",
         tar({link_entry("s", entry_type::symlink, "../OUTSIDE"), file_entry("s/.wh.secret")}),
         "layer entry 's/.wh.secret': parent 's' leads outside the target directory"},
        {"opaque marker through a symlink",
         tar({link_entry("s", entry_type::symlink, "../OUTSIDE"), file_entry("s/.wh..wh..opq")}),
         "layer entry 's/.wh..wh..opq': parent 's' leads outside the target directory"},
        {"whiteout of the parent", tar({file_entry("a/.wh..")}),
         "layer entry 'a/.wh..': whiteout names no file"},
        {"file replacing the target", tar({file_entry(".", "")}),
         "layer entry '.': entry would replace the target directory"},
        {"device nodes when forbidden", tar({device}),
         "layer entry 'dev/sda': device nodes are not allowed", no_devices},
        {"file above the size limit", tar({file_entry("big", std::string(2000, 'x'))}),
         "layer entry 'big': file size 2000 exceeds the limit of 1000 bytes", small_files},
        {"absurd size with truncated data", absurd_size,
         "layer entry 'huge': Truncated tar archive"},
        {"truncated gzip", truncated_gzip, "layer entry 'f': gzip: compressed stream is truncated"},
        {"corrupt gzip", corrupt_gzip, "layer: gzip: invalid bit length repeat"},
        {"garbage after gzip", [] { return gzip(make_tar({file_entry("f", "x")})) + "garbage!"; },
         "layer: gzip: data after the end of the compressed stream"},
        {"not a tar", [] { return std::string(2000, 'Z'); }, "layer: Unrecognized archive format"},
    };
}

}  // namespace

TEST_CASE("apply rejects hostile archives") {
    for (const hostile_case& item : hostile_corpus()) {
        SECTION(item.name) {
            temp_dir sandbox;
            const fs::path outside = sandbox / "OUTSIDE";
            const fs::path target = sandbox / "target";
            fs::create_directories(outside);
            fs::create_directories(target);
            write_text(outside / "secret", "secret");
            // Absolute names in the corpus point at /OUTSIDE, which must never appear.

            CHECK_THROWS_WITH(apply_bytes(item.bytes(), target, item.options), item.message);
            CHECK(dockwright::test::read_file(outside / "secret") == "secret");
            const auto after = snapshot(outside);
            CHECK(after == std::vector<std::string>{"secret 1"});
            CHECK_FALSE(fs::exists("/OUTSIDE"));
            CHECK_FALSE(fs::exists(sandbox / "escape"));
        }
    }
    CHECK(hostile_corpus().size() >= 15);
}

TEST_CASE("apply follows symlinked dirs of a lower layer") {
    temp_dir sandbox;
    const fs::path target = sandbox / "target";
    fs::create_directories(target);
    const std::string lower =
        make_tar({dir_entry("usr/"), dir_entry("usr/lib/"), file_entry("usr/lib/old", "o"),
                  dir_entry("run/"), link_entry("lib", entry_type::symlink, "usr/lib"),
                  dir_entry("var/"), link_entry("var/run", entry_type::symlink, "/run")});
    apply_bytes(lower, target);

    const std::string upper = make_tar({file_entry("lib/x", "abc"), file_entry("lib/sub/y", "y"),
                                        file_entry("var/run/pid", "12"), file_entry("lib/.wh.old"),
                                        link_entry("hard", entry_type::hardlink, "lib/x")});
    const apply_result result = apply_bytes(upper, target);

    CHECK(result.entries == 5);
    CHECK(dockwright::test::read_file(target / "usr/lib/x") == "xxx");
    CHECK(dockwright::test::read_file(target / "usr/lib/sub/y") == "x");
    CHECK(dockwright::test::read_file(target / "run/pid") == "xx");
    CHECK_FALSE(fs::exists(target / "usr/lib/old"));
    CHECK(fs::is_symlink(target / "lib"));
    CHECK(fs::read_symlink(target / "lib") == "usr/lib");
    CHECK(fs::is_symlink(target / "var/run"));
    CHECK(fs::hard_link_count(target / "usr/lib/x") == 2);
    CHECK(fs::equivalent(target / "hard", target / "usr/lib/x"));
}

TEST_CASE("apply resolves absolute symlinks inside the target") {
    temp_dir sandbox;
    const fs::path outside = sandbox / "OUTSIDE";
    const fs::path target = sandbox / "target";
    fs::create_directories(outside);
    fs::create_directories(target);
    write_text(outside / "secret", "secret");

    apply_bytes(make_tar({link_entry("evil", entry_type::symlink, "/OUTSIDE"),
                          file_entry("evil/file", "x"), file_entry("evil/.wh.secret")}),
                target);

    CHECK(dockwright::test::read_file(target / "OUTSIDE/file") == "x");
    CHECK(snapshot(outside) == std::vector<std::string>{"secret 1"});
    CHECK_FALSE(fs::exists("/OUTSIDE"));
}

// Applies a layer with a device node in a child process that has unshared its user namespace,
// where mknod(2) fails with EPERM as it does for rootless users. Returns the child's report:
// the skipped entries and the warnings, one per line, or "error: <message>".
std::string apply_in_user_namespace(const std::string& layer, const fs::path& target) {
    temp_dir holder;
    write_text(holder / "layer", layer);
    int report[2];
    REQUIRE(::pipe(report) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(report[0]);
        std::string text;
        if (::unshare(CLONE_NEWUSER) != 0) {
            text = "error: unshare failed";
        } else {
            try {
                apply_options options;
                options.warn = [&text](const std::string& message) {
                    text += "warning: " + message + "\n";
                };
                for (const std::string& name :
                     apply_layer(holder / "layer", target, options).skipped_devices) {
                    text += "skipped: " + name + "\n";
                }
            } catch (const std::exception& e) {
                text = std::string("error: ") + e.what();
            }
        }
        [[maybe_unused]] const auto written = ::write(report[1], text.data(), text.size());
        ::_exit(0);
    }
    ::close(report[1]);
    std::string text;
    char buffer[4096];
    for (ssize_t n; (n = ::read(report[0], buffer, sizeof buffer)) > 0;)
        text.append(buffer, static_cast<std::size_t>(n));
    ::close(report[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return text;
}

TEST_CASE("apply skips device nodes when mknod is denied") {
    temp_dir sandbox;
    const fs::path target = sandbox / "target";
    fs::create_directories(target);
    tar_entry null_device;
    null_device.name = "dev/null";
    null_device.type = entry_type::char_device;
    null_device.mode = 020666;
    null_device.devmajor = 1;
    null_device.devminor = 3;
    tar_entry disk = null_device;
    disk.name = "dev/sda";
    disk.type = entry_type::block_device;
    disk.devmajor = 8;
    disk.devminor = 0;
    const std::string layer =
        make_tar({dir_entry("dev/"), null_device, disk, file_entry("etc/hostname", "h"),
                  link_entry("dev/fifo", entry_type::fifo, "")});

    const std::string report = apply_in_user_namespace(layer, target);
    if (report == "error: unshare failed") {
        WARN("skipped: unshare(CLONE_NEWUSER) is not permitted here");
        return;
    }
    CHECK(report ==
          "warning: skipped 2 device node(s) because mknod is not permitted (rootless): "
          "'dev/null' and others\n"
          "skipped: dev/null\n"
          "skipped: dev/sda\n");
    CHECK_FALSE(fs::exists(fs::symlink_status(target / "dev/null")));
    CHECK_FALSE(fs::exists(fs::symlink_status(target / "dev/sda")));
    CHECK(fs::is_fifo(target / "dev/fifo"));
    CHECK(dockwright::test::read_file(target / "etc/hostname") == "x");
}
