// Opening stores whose database records a schema version: one with a table dropped by hand,
// one written by a newer dockwright, and one of schema version 0 upgraded while statements are
// kept by the connection.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <dockwright/layer/tar_writer.hpp>
#include <dockwright/store/store.hpp>

#include "layer_support.hpp"
#include "store_support.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace dockwright;
using dockwright::test::commit_image_with;
using dockwright::test::run_sql;

namespace {

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
        id = commit_image_with(target, "one", {"app:1"});
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
        id = commit_image_with(target, "one", {"app:1"});
    }
    run_sql(root.path(), "PRAGMA user_version = 7;");
    {
        store newer(root.path());
        CHECK(newer.resolve("app:1").id == id);
        CHECK(newer.verify().empty());
        const digest second = commit_image_with(newer, "two", {"app:2"});
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
        id = commit_image_with(target, "one", {"app:1"});
    }
    run_sql(root.path(), "DROP TABLE repo_digests; PRAGMA user_version = 0;");
    {
        store upgraded(root.path());
        CHECK(upgraded.resolve("app:1").id == id);
        const digest second = commit_image_with(upgraded, "two", {"app:2"});
        CHECK(upgraded.get(second).repo_digests.empty());
        CHECK(upgraded.verify().empty());
    }
    CHECK(user_version(root.path()) == 1);
}
