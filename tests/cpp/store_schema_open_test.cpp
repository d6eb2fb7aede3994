// Opening stores whose database records a schema version: one with a table dropped by hand,
// one written by a newer dockwright, and one of schema version 0 upgraded while statements are
// kept by the connection.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <dockwright/layer/tar_writer.hpp>
#include <dockwright/store/store.hpp>

#include "layer_support.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace dockwright;

namespace {

/// Records a one-layer image whose only file contains `content`, tagged `tag`.
digest commit_tagged_image(store& target, const std::string& content, const std::string& tag) {
    layer::string_sink sink;
    layer::tar_writer tar(sink);
    layer::tar_entry entry;
    entry.name = "file.txt";
    entry.mode = 0100644;
    entry.size = static_cast<std::int64_t>(content.size());
    tar.write_header(entry);
    tar.write_data(std::as_bytes(std::span(content)));
    tar.close();
    const std::string layer = sink.data();
    const digest diff_id = target.write_blob(layer);
    image config;
    config.created = timestamp::from_unix(1700000000);
    config.architecture = "amd64";
    config.os = "linux";
    config.config.emplace();
    config.rootfs.emplace();
    config.rootfs->diff_ids = {diff_id};
    image_commit request{to_json(config), {{diff_id, layer.size(), std::nullopt, 0}}, {}, {}};
    request.references.push_back(reference::parse_tagged(tag));
    return target.commit_image(request).id;
}

/// Runs SQL on the store's database outside the store, as a user or another program would.
void run_sql(const fs::path& root, const std::string& sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((root / "metadata.db").c_str(), &db) == SQLITE_OK);
    char* message = nullptr;
    const int status = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
    const std::string reason = message ? message : "";
    sqlite3_free(message);
    sqlite3_close(db);
    INFO(reason);
    REQUIRE(status == SQLITE_OK);
}

std::int64_t user_version(const fs::path& root) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((root / "metadata.db").c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* statement = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &statement, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(statement) == SQLITE_ROW);
    const std::int64_t version = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return version;
}

}  // namespace

TEST_CASE("store recreates a dropped table", "[store][schema]") {
    test::temp_dir root;
    digest id = digest::sha256_of("");
    {
        store target(root.path());
        id = commit_tagged_image(target, "one", "app:1");
    }
    REQUIRE(user_version(root.path()) == 1);
    // Before the schema script was skipped for versioned stores, opening the store made the
    // missing table again (empty), as it does for a store of schema version 0.
    run_sql(root.path(), "DROP TABLE snapshots;");
    store reopened(root.path());
    CHECK(reopened.resolve("app:1").id == id);
    CHECK(reopened.verify().empty());
    const fs::path unpacked = reopened.unpack(id);
    CHECK(test::read_file(unpacked / "file.txt") == "one");
    CHECK(reopened.unpack(id) == unpacked);
    CHECK(reopened.verify().empty());
}

TEST_CASE("store of a newer schema version opens", "[store][schema]") {
    test::temp_dir root;
    digest id = digest::sha256_of("");
    {
        store target(root.path());
        id = commit_tagged_image(target, "one", "app:1");
    }
    run_sql(root.path(), "PRAGMA user_version = 7;");
    {
        store newer(root.path());
        CHECK(newer.resolve("app:1").id == id);
        CHECK(newer.verify().empty());
        const digest second = commit_tagged_image(newer, "two", "app:2");
        CHECK(newer.resolve("app:2").id == second);
    }
    // Opening never lowers the version a newer program recorded.
    CHECK(user_version(root.path()) == 7);
}

TEST_CASE("store of schema version 0 upgrades", "[store][schema]") {
    test::temp_dir root;
    digest id = digest::sha256_of("");
    {
        store target(root.path());
        id = commit_tagged_image(target, "one", "app:1");
    }
    run_sql(root.path(), "DROP TABLE repo_digests; PRAGMA user_version = 0;");
    {
        store upgraded(root.path());
        CHECK(upgraded.resolve("app:1").id == id);
        const digest second = commit_tagged_image(upgraded, "two", "app:2");
        CHECK(upgraded.get(second).repo_digests.empty());
        CHECK(upgraded.verify().empty());
    }
    CHECK(user_version(root.path()) == 1);
}
