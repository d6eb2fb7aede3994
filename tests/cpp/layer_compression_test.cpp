// Compressed layers: gzip and zstd output that standard tools read, with matching digests.
#include <catch2/catch.hpp>
#include <cstdio>
#include <random>

#include "dockwright/layer/apply.hpp"
#include "dockwright/layer/layer_error.hpp"
#include "dockwright/layer/layer_writer.hpp"
#include "layer_support.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace dockwright;
using namespace dockwright::layer;
using dockwright::test::temp_dir;
using dockwright::test::write_text;

namespace {

// A tree of about 5 MiB: text-like files that compress, and random files that do not.
void make_tree(const fs::path& root) {
    std::mt19937 random(42);
    for (int d = 0; d < 4; ++d) {
        const fs::path dir = root / ("dir" + std::to_string(d));
        fs::create_directories(dir);
        for (int f = 0; f < 5; ++f) {
            std::string text;
            while (text.size() < 200000)
                text += "line " + std::to_string(random() % 1000) + "\n";
            write_text(dir / ("text" + std::to_string(f)), text);
            std::string noise(50000, '\0');
            for (char& c : noise)
                c = static_cast<char>(random());
            write_text(dir / ("noise" + std::to_string(f)), noise);
        }
    }
}

int run(const std::string& command) {
    return std::system(command.c_str());
}

}  // namespace

TEST_CASE("gzip layer is read by gzip and tar") {
    temp_dir tree;
    temp_dir out_dir;
    make_tree(tree.path());
    const fs::path plain = out_dir / "layer.tar";
    const fs::path packed = out_dir / "layer.tar.gz";
    {
        std::FILE* file = std::fopen(plain.c_str(), "wb");
        fd_sink sink(fileno(file));
        write_tree_layer(tree.path(), sink);
        std::fclose(file);
    }
    std::FILE* file = std::fopen(packed.c_str(), "wb");
    fd_sink sink(fileno(file));
    write_options options;
    options.compression = {compression::gzip, 0, 2};
    const layer_info info = write_tree_layer(tree.path(), sink, options);
    std::fclose(file);

    const std::string tar_bytes = dockwright::test::read_file(plain);
    const std::string gz_bytes = dockwright::test::read_file(packed);
    CHECK(info.kind == compression::gzip);
    CHECK(info.diff_id == digest::sha256_of(tar_bytes));
    CHECK(info.tar_size == tar_bytes.size());
    CHECK(info.compressed_digest == digest::sha256_of(gz_bytes));
    CHECK(info.compressed_size == gz_bytes.size());
    CHECK(info.compressed_size < info.tar_size / 2);
    CHECK(run("gzip -t '" + packed.string() + "'") == 0);
    CHECK(run("gzip -dc '" + packed.string() + "' | cmp -s - '" + plain.string() + "'") == 0);
    CHECK(run("tar -tzf '" + packed.string() + "' >/dev/null") == 0);
}

TEST_CASE("zstd layer is read by zstd and applies") {
    temp_dir tree;
    temp_dir out_dir;
    temp_dir target;
    make_tree(tree.path());
    const fs::path packed = out_dir / "layer.tar.zst";
    std::FILE* file = std::fopen(packed.c_str(), "wb");
    fd_sink sink(fileno(file));
    write_options options;
    options.compression = {compression::zstd, 0, 2};
    const layer_info info = write_tree_layer(tree.path(), sink, options);
    std::fclose(file);

    CHECK(info.compressed_digest == digest::sha256_of(dockwright::test::read_file(packed)));
    CHECK(run("zstd -q -t '" + packed.string() + "'") == 0);
    const apply_result applied = apply_layer(packed, target.path());
    CHECK(applied.kind == compression::zstd);
    CHECK(applied.diff_id == info.diff_id);
    CHECK(applied.compressed_digest == info.compressed_digest);
    CHECK(dockwright::test::read_file(target / "dir3/text4") ==
          dockwright::test::read_file(tree / "dir3/text4"));
}

TEST_CASE("gzip level out of range is rejected") {
    temp_dir tree;
    string_sink out;
    write_options options;
    options.compression = {compression::gzip, 13, 1};
    CHECK_THROWS_WITH(write_tree_layer(tree.path(), out, options),
                      "layer: invalid gzip level 13: expected 1 to 12");
}
