// Layer tars written from trees, overlayfs upper directories and change lists: entry order,
// header fields, whiteouts, and Docker's own layers reproduced from the oracle listings.
#include "dockwright/layer/layer_writer.hpp"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <catch2/catch.hpp>
#include <ctime>
#include <iomanip>
#include <sstream>

#include "dockwright/layer/apply.hpp"
#include "dockwright/layer/layer_error.hpp"
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

std::string tree_layer(const fs::path& root, const write_options& options = {}) {
    string_sink out;
    write_tree_layer(root, out, options);
    return out.data();
}

}  // namespace

TEST_CASE("tree layer lists entries in walk order") {
    temp_dir root;
    fs::create_directories(root / "a/b");
    write_text(root / "a/b/f", "x");
    write_text(root / "a.txt", "yy");
    write_text(root / "A", "");
    fs::create_symlink("a.txt", root / "link");
    ::chmod((root / "a").c_str(), 0750);
    ::chmod((root / "a/b").c_str(), 0755);
    ::chmod((root / "a/b/f").c_str(), 04755);
    ::chmod((root / "a.txt").c_str(), 0644);
    ::chmod((root / "A").c_str(), 0600);

    const auto entries = parse_tar(tree_layer(root.path()));
    CHECK(listing(entries) == std::vector<std::string>{
                                  "A 0 0100600 0/0",
                                  "a/ 5 0040750 0/0",
                                  "a/b/ 5 0040755 0/0",
                                  "a/b/f 0 0104755 0/0",
                                  "a.txt 0 0100644 0/0",
                                  "link 2 0120777 0/0 -> a.txt",
                              });
    CHECK(entries[3].data == "x");
    CHECK(entries[0].uname == "root");
    CHECK(entries[0].gname == "root");
    CHECK(entries[0].magic == std::string("ustar\0"
                                          "00",
                                          8));
}

TEST_CASE("tree layer keeps header fields") {
    temp_dir root;
    write_text(root / "file", "hello");
    ::chown((root / "file").c_str(), 1234, 5678);
    set_mtime(root / "file", 1700000000);
    const std::string bytes = tree_layer(root.path());
    // One file: header, one data block and two zero blocks, as Go writes it.
    REQUIRE(bytes.size() == 2048);
    const auto entries = parse_tar(bytes);
    REQUIRE(entries.size() == 1);
    CHECK(entries[0].uid == 1234);
    CHECK(entries[0].gid == 5678);
    CHECK(entries[0].uname.empty());
    CHECK(entries[0].size == 5);
    CHECK(entries[0].mtime == 1700000000);
    CHECK(bytes.substr(100, 8) == std::string("0100644\0", 8));
    CHECK(bytes.substr(124, 12) == std::string("00000000005\0", 12));
    CHECK(bytes.substr(329, 16) == std::string("0000000\0"
                                               "0000000\0",
                                               16));
}

TEST_CASE("tree layer diff ID is the sha256 of the tar") {
    temp_dir root;
    write_text(root / "f", std::string(300000, 'z'));
    string_sink out;
    const layer_info info = write_tree_layer(root.path(), out);
    CHECK(info.diff_id == digest::sha256_of(out.data()));
    CHECK(info.tar_size == out.data().size());
    CHECK(info.compressed_digest == info.diff_id);
    CHECK(info.compressed_size == info.tar_size);
}

TEST_CASE("tree layer writes hard links to the first name") {
    temp_dir root;
    write_text(root / "b", "data");
    fs::create_hard_link(root / "b", root / "a");
    fs::create_hard_link(root / "b", root / "c");
    const auto entries = parse_tar(tree_layer(root.path()));
    CHECK(listing(entries) == std::vector<std::string>{
                                  "a 0 0100644 0/0",
                                  "b 1 0100644 0/0 -> a",
                                  "c 1 0100644 0/0 -> a",
                              });
    CHECK(entries[0].size == 4);
    CHECK(entries[1].size == 0);
}

TEST_CASE("tree layer writes devices and fifos") {
    temp_dir root;
    REQUIRE(::mknod((root / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);
    REQUIRE(::mknod((root / "disk").c_str(), S_IFBLK | 0660, makedev(8, 1)) == 0);
    REQUIRE(::mkfifo((root / "pipe").c_str(), 0644) == 0);
    ::chmod((root / "null").c_str(), 0666);
    ::chmod((root / "disk").c_str(), 0660);
    ::chmod((root / "pipe").c_str(), 0644);
    const std::string bytes = tree_layer(root.path());
    const auto entries = parse_tar(bytes);
    CHECK(listing(entries) == std::vector<std::string>{
                                  "disk 4 0060660 0/0",
                                  "null 3 0020666 0/0",
                                  "pipe 6 0010644 0/0",
                              });
    CHECK(bytes.substr(329, 16) == std::string("0000010\0"
                                               "0000001\0",
                                               16));
}

TEST_CASE("tree layer splits long names or uses PAX") {
    temp_dir root;
    const std::string dir(90, 'd');
    const std::string file(60, 'f');
    fs::create_directories(root / dir);
    write_text(root / dir / file, "1");
    write_text(root / "caf\xc3\xa9", "2");
    const std::string bytes = tree_layer(root.path());
    const auto entries = parse_tar(bytes);
    REQUIRE(entries.size() == 3);
    // A non-ASCII name needs a PAX path record; the ustar name drops the non-ASCII bytes.
    CHECK(entries[0].pax == std::map<std::string, std::string>{{"path", "caf\xc3\xa9"}});
    CHECK(entries[0].name == "caf");
    // A 151-byte ASCII name fits ustar's prefix and name fields.
    CHECK(entries[2].name == dir + "/" + file);
    CHECK(entries[2].pax.empty());
    CHECK(bytes.find(dir + std::string(65, '\0')) != std::string::npos);
    const std::size_t pax_header = bytes.find("PaxHeaders.0/caf");
    CHECK(pax_header != std::string::npos);
    CHECK(bytes.substr(pax_header + 156, 1) == "x");
}

TEST_CASE("tree layer writes xattrs as PAX records") {
    temp_dir root;
    write_text(root / "ping", "");
    // vfs_cap_data revision 2 with CAP_NET_RAW permitted, as setcap cap_net_raw=p writes it.
    std::string capability(20, '\0');
    capability[3] = '\x02';
    capability[0] = '\x01';
    capability[5] = '\x20';
    REQUIRE(::setxattr((root / "ping").c_str(), "security.capability", capability.data(),
                       capability.size(), 0) == 0);
    REQUIRE(::setxattr((root / "ping").c_str(), "user.note", "hi", 2, 0) == 0);

    const auto all = parse_tar(tree_layer(root.path()));
    REQUIRE(all.size() == 1);
    CHECK(all[0].pax == std::map<std::string, std::string>{
                            {"SCHILY.xattr.security.capability", capability},
                            {"SCHILY.xattr.user.note", "hi"},
                        });

    write_options docker;
    docker.xattrs = xattr_selection::capability_only;
    const auto capability_only = parse_tar(tree_layer(root.path(), docker));
    CHECK(capability_only[0].pax == std::map<std::string, std::string>{
                                        {"SCHILY.xattr.security.capability", capability},
                                    });
}

TEST_CASE("overlay layer converts whiteouts and opaque dirs") {
    temp_dir upper;
    fs::create_directories(upper / "etc/app");
    fs::create_directories(upper / "var");
    REQUIRE(::mknod((upper / "var/www").c_str(), S_IFCHR, makedev(0, 0)) == 0);
    set_mtime(upper / "var/www", 1700000100);
    write_text(upper / "var/web", "moved");
    REQUIRE(::setxattr((upper / "etc/app").c_str(), "trusted.overlay.opaque", "y", 1, 0) == 0);
    REQUIRE(::setxattr((upper / "etc").c_str(), "trusted.overlay.origin", "o", 1, 0) == 0);
    write_text(upper / "etc/app/conf", "c");
    ::chmod((upper / "etc/app").c_str(), 02750);
    ::chown((upper / "etc/app").c_str(), 33, 33);

    string_sink out;
    write_overlay_layer(upper.path(), out);
    const auto entries = parse_tar(out.data());
    CHECK(listing(entries) == std::vector<std::string>{
                                  "etc/ 5 0040755 0/0",
                                  "etc/app/ 5 0042750 33/33",
                                  "etc/app/.wh..wh..opq 0 0000750 33/33",
                                  "etc/app/conf 0 0100644 0/0",
                                  "var/ 5 0040755 0/0",
                                  "var/web 0 0100644 0/0",
                                  "var/.wh.www 0 0000600 0/0",
                              });
    CHECK(entries[0].pax.empty());
    CHECK(entries[1].pax.empty());
    CHECK(entries[2].mtime == 0);
    CHECK(entries[2].uname == "www-data");
    CHECK(entries[6].mtime == 1700000100);
}

TEST_CASE("overlay layer rejects redirected directories") {
    temp_dir upper;
    fs::create_directories(upper / "moved");
    REQUIRE(::setxattr((upper / "moved").c_str(), "trusted.overlay.redirect", "/old", 4, 0) == 0);
    string_sink out;
    CHECK_THROWS_WITH(write_overlay_layer(upper.path(), out),
                      "layer entry 'moved': renamed directory (overlayfs redirect_dir) cannot be "
                      "written as a layer; mount with redirect_dir=off");
}

TEST_CASE("changes layer adds parents and whiteouts") {
    temp_dir root;
    fs::create_directories(root / "usr/bin");
    fs::create_directories(root / "srv");
    write_text(root / "usr/bin/tool", "t");
    write_text(root / "srv/new.txt", "new\n");
    write_text(root / "usr.txt", "u");
    set_mtime(root / "usr/bin", 1700000200);

    string_sink out;
    write_changes_layer(root.path(),
                        {{"usr.txt", change_kind::modified},
                         {"usr/bin/tool", change_kind::modified},
                         {"usr/bin/env", change_kind::deleted},
                         {"srv", change_kind::opaque},
                         {"srv/new.txt", change_kind::modified}},
                        out);
    const auto entries = parse_tar(out.data());
    CHECK(listing(entries) == std::vector<std::string>{
                                  "srv/ 5 0040755 0/0",
                                  "srv/.wh..wh..opq 0 0000755 0/0",
                                  "srv/new.txt 0 0100644 0/0",
                                  "usr/ 5 0040755 0/0",
                                  "usr/bin/ 5 0040755 0/0",
                                  "usr/bin/.wh.env 0 0000600 0/0",
                                  "usr/bin/tool 0 0100644 0/0",
                                  "usr.txt 0 0100644 0/0",
                              });
    CHECK(entries[5].mtime == 1700000200);
}

TEST_CASE("changes layer rejects bad paths") {
    temp_dir root;
    string_sink out;
    CHECK_THROWS_WITH(write_changes_layer(root.path(), {{"../x", change_kind::modified}}, out),
                      "layer entry '../x': change path has an empty, '.' or '..' component");
    CHECK_THROWS_WITH(write_changes_layer(root.path(), {{"/x", change_kind::modified}}, out),
                      "layer entry '/x': change path must be relative, without a trailing "
                      "slash");
    CHECK_THROWS_WITH(write_changes_layer(root.path(), {{"gone", change_kind::modified}}, out),
                      "layer entry 'gone': stat failed: No such file or directory");
}

// ---- Docker's layers from the oracle, rebuilt as overlayfs upper directories --------------

namespace {

long parse_utc(const std::string& text) {
    std::tm time{};
    std::istringstream in(text);
    in >> std::get_time(&time, "%Y-%m-%dT%H:%M:%S");
    return static_cast<long>(timegm(&time));
}

struct listed_layer {
    std::string diff_id;
    std::uint64_t bytes = 0;
    std::vector<std::string> lines;
};

std::vector<listed_layer> read_layers(const fs::path& file) {
    std::vector<listed_layer> layers;
    std::istringstream in(dockwright::test::read_file(file));
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("# layer ")) {
            listed_layer layer;
            layer.diff_id = line.substr(line.find("diff_id=") + 8, 71);
            layer.bytes = std::stoull(line.substr(line.find("bytes=") + 6));
            layers.push_back(layer);
        } else if (!layers.empty() && !line.empty()) {
            layers.back().lines.push_back(line);
        }
    }
    return layers;
}

// Recreates the upper directory that produced a listed layer. Regular file contents come from
// `contents` by path.
void build_upper(const fs::path& upper, const listed_layer& layer,
                 const std::map<std::string, std::string>& contents) {
    std::vector<std::pair<fs::path, long>> dir_times;
    for (const std::string& line : layer.lines) {
        std::istringstream in(line);
        std::string perms, ids, names, size, mtime, name;
        in >> perms >> ids >> names >> size >> mtime >> name;
        const std::string raw_mode = line.substr(line.rfind("[ustar ") + 7, 7);
        const mode_t mode = static_cast<mode_t>(std::stoul(raw_mode, nullptr, 8)) & 07777;
        const uid_t uid = static_cast<uid_t>(std::stoul(ids));
        const gid_t gid = static_cast<gid_t>(std::stoul(ids.substr(ids.find('/') + 1)));
        const long seconds = parse_utc(mtime);
        if (name.ends_with("/")) name.pop_back();
        const fs::path path = upper / name;
        const std::string base = path.filename().string();
        if (base == ".wh..wh..opq") {
            REQUIRE(::setxattr(path.parent_path().c_str(), "trusted.overlay.opaque", "y", 1, 0) ==
                    0);
            continue;
        }
        if (base.starts_with(".wh.")) {
            const fs::path device = path.parent_path() / base.substr(4);
            REQUIRE(::mknod(device.c_str(), S_IFCHR, makedev(0, 0)) == 0);
            REQUIRE(::chown(device.c_str(), uid, gid) == 0);
            set_mtime(device, seconds);
            continue;
        }
        if (perms[0] == 'd') {
            fs::create_directories(path);
            dir_times.emplace_back(path, seconds);
        } else if (perms[0] == 'l') {
            fs::create_symlink(
                line.substr(line.find(" -> ") + 4, line.rfind(" [") - line.find(" -> ") - 4), path);
        } else {
            REQUIRE(contents.contains(name));
            write_text(path, contents.at(name));
            REQUIRE(contents.at(name).size() == std::stoul(size));
        }
        REQUIRE(::lchown(path.c_str(), uid, gid) == 0);
        if (perms[0] != 'l') REQUIRE(::chmod(path.c_str(), mode) == 0);
        set_mtime(path, seconds);
    }
    for (auto it = dir_times.rbegin(); it != dir_times.rend(); ++it) {
        set_mtime(it->first, it->second);
    }
}

// Extracts the only layer of a gzip-compressed `docker save` archive into `target`.
apply_result unpack_saved_image(const fs::path& archive, const fs::path& target) {
    temp_dir saved;
    apply_layer(archive, saved.path());
    for (const auto& item : fs::directory_iterator(saved.path())) {
        if (fs::exists(item.path() / "layer.tar")) {
            return apply_layer(item.path() / "layer.tar", target);
        }
    }
    throw std::runtime_error("no layer.tar in " + archive.string());
}

}  // namespace

TEST_CASE("overlay layer reproduces Docker's run-whiteouts layers") {
    const auto shared = dockwright::test::shared_dir();
    if (!shared) {
        WARN("skipped: shared corpus (oracle/cases/run-whiteouts) not found");
        return;
    }
    const fs::path listing_file =
        *shared / "oracle/cases/run-whiteouts/expected-classic/layers.txt";
    const fs::path base_archive = *shared / "oracle/bases/orc-base-users.tar.gz";
    if (!fs::exists(listing_file) || !fs::exists(base_archive)) {
        WARN("skipped: oracle run-whiteouts case or orc-base-users base missing");
        return;
    }
    temp_dir base;
    const apply_result base_layer = unpack_saved_image(base_archive, base.path());
    const std::string index = dockwright::test::read_file(base / "var/www/index.html");
    const std::map<std::string, std::string> contents = {
        {"srv/new.txt", "new\n"},
        {"var/www/index.html", index + "changed\n"},
        {"var/web/index.html", index + "changed\n"},
        {"etc/group", dockwright::test::read_file(base / "etc/group")},
    };

    const auto layers = read_layers(listing_file);
    REQUIRE(layers.size() == 8);
    CHECK(base_layer.diff_id.str() == layers[0].diff_id);
    for (std::size_t i = 1; i < layers.size(); ++i) {
        INFO("layer " << i + 1);
        temp_dir upper;
        build_upper(upper.path(), layers[i], contents);
        string_sink out;
        const layer_info info = write_overlay_layer(upper.path(), out);
        CHECK(info.tar_size == layers[i].bytes);
        CHECK(info.diff_id.str() == layers[i].diff_id);
    }
}
