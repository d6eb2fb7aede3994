// Placeholder files whose data the layer writer reads from another file (data_redirect).
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "dockwright/layer/layer_error.hpp"
#include "dockwright/layer/layer_writer.hpp"
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

/// Makes `placeholder` a file of the source's size without its data and returns the redirect
/// that names the source.
std::pair<std::pair<std::uint64_t, std::uint64_t>, data_redirect> placeholder_for(
    const fs::path& source, const fs::path& placeholder) {
    struct stat from {};
    REQUIRE(::stat(source.c_str(), &from) == 0);
    write_text(placeholder, "");
    fs::resize_file(placeholder, static_cast<std::uintmax_t>(from.st_size));
    struct stat made {};
    REQUIRE(::stat(placeholder.c_str(), &made) == 0);
    return {
        {made.st_dev, made.st_ino},
        {source, static_cast<std::uint64_t>(from.st_dev), static_cast<std::uint64_t>(from.st_ino),
         static_cast<std::uint64_t>(from.st_size), change_time_ns(from.st_ctim)}};
}

}  // namespace

TEST_CASE("layer writer reads a placeholder's data from its source") {
    temp_dir sources;
    temp_dir upper;
    const std::string text(100000, 'q');
    write_text(sources / "big", text);
    fs::create_directories(upper / "data");
    data_redirects redirects;
    redirects.insert(placeholder_for(sources / "big", upper / "data/big"));
    ::chmod((upper / "data/big").c_str(), 04755);
    set_mtime(upper / "data/big", 1600000000);
    // A hard link of the placeholder is written as a link to the first name.
    fs::create_hard_link(upper / "data/big", upper / "data/link");
    write_text(upper / "data/small", "own data");

    write_options options;
    options.redirects = &redirects;
    string_sink out;
    write_overlay_layer(upper.path(), out, options);
    const auto entries = parse_tar(out.data());
    REQUIRE(entries.size() == 4);
    CHECK(entries[1].name == "data/big");
    CHECK(entries[1].mode == "0104755");
    CHECK(entries[1].mtime == 1600000000);
    CHECK(entries[1].data == text);
    CHECK(entries[2].name == "data/link");
    CHECK(entries[2].linkname == "data/big");
    CHECK(entries[3].data == "own data");
}

TEST_CASE("layer writer refuses a source that changed size") {
    temp_dir sources;
    temp_dir upper;
    write_text(sources / "big", std::string(70000, 'a'));
    data_redirects redirects;
    redirects.insert(placeholder_for(sources / "big", upper / "big"));
    write_text(sources / "big", std::string(50, 'b'));  // same inode, new size

    write_options options;
    options.redirects = &redirects;
    string_sink out;
    try {
        write_overlay_layer(upper.path(), out, options);
        FAIL("the changed source was accepted");
    } catch (const layer_error& failure) {
        CHECK(std::string(failure.what()) == "layer entry 'big': its source " +
                                                 (sources / "big").string() +
                                                 " changed while the build ran; build again");
    }
}

TEST_CASE("layer writer refuses a source written to since it was recorded") {
    temp_dir sources;
    temp_dir upper;
    write_text(sources / "big", std::string(70000, 'a'));
    data_redirects redirects;
    redirects.insert(placeholder_for(sources / "big", upper / "big"));
    struct stat before {};
    REQUIRE(::stat((sources / "big").c_str(), &before) == 0);
    // Same inode and size, new bytes: only the change time differs.
    do {
        write_text(sources / "big", std::string(70000, 'b'));
        struct stat after {};
        REQUIRE(::stat((sources / "big").c_str(), &after) == 0);
        if (change_time_ns(after.st_ctim) != change_time_ns(before.st_ctim)) break;
    } while (true);

    write_options options;
    options.redirects = &redirects;
    string_sink out;
    CHECK_THROWS_WITH(write_overlay_layer(upper.path(), out, options),
                      "layer entry 'big': its source " + (sources / "big").string() +
                          " changed while the build ran; build again");
}
