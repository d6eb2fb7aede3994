// The store's reusable prepared statements: reuse, statements abandoned mid-iteration, schema
// changes while a statement is kept, overlapping and concurrent use of one connection.
#include <catch2/catch.hpp>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../../cpp/src/lib/store/sqlite.hpp"
#include "layer_support.hpp"

namespace fs = std::filesystem;
using dockwright::store_error;
using dockwright::detail::sqlite_connection;
using dockwright::detail::sqlite_statement;

namespace {

/// A connection to a new database holding the table t(n) with the rows 1, 2 and 3.
struct numbers_database {
    dockwright::test::temp_dir dir;
    sqlite_connection db{(dir.path() / "test.db").string()};

    numbers_database() {
        db.execute("PRAGMA journal_mode=WAL");
        db.execute("CREATE TABLE t(n INTEGER); INSERT INTO t VALUES (1), (2), (3);");
    }
};

const std::string select_all = "SELECT n FROM t ORDER BY n";
const std::string select_bound = "SELECT count(*) FROM t WHERE n = ?1";

}  // namespace

TEST_CASE("statement cache reuses one statement", "[store][sqlite]") {
    numbers_database fixture;
    sqlite3_stmt* first = fixture.db.take(select_all);
    fixture.db.give_back(first);
    sqlite3_stmt* second = fixture.db.take(select_all);
    CHECK(second == first);
    // A second borrower of the same SQL while the first is out gets its own statement.
    sqlite3_stmt* third = fixture.db.take(select_all);
    CHECK(third != second);
    fixture.db.give_back(third);
    fixture.db.give_back(second);
}

TEST_CASE("statement abandoned mid-iteration restarts", "[store][sqlite]") {
    numbers_database fixture;
    try {
        sqlite_statement rows(fixture.db, select_all);
        REQUIRE(rows.step());
        CHECK(rows.integer(0) == 1);
        throw std::runtime_error("stop after the first row");
    } catch (const std::runtime_error&) {
    }
    // The kept statement was reset, so it keeps no read open on the table: the next use starts
    // again from the first row, and the table can be dropped afterwards.
    {
        sqlite_statement rows(fixture.db, select_all);
        std::vector<std::int64_t> seen;
        while (rows.step())
            seen.push_back(rows.integer(0));
        CHECK(seen == std::vector<std::int64_t>{1, 2, 3});
    }
    CHECK_NOTHROW(fixture.db.execute("DROP TABLE t"));
}

TEST_CASE("statement bindings are cleared on reuse", "[store][sqlite]") {
    numbers_database fixture;
    {
        sqlite_statement count(fixture.db, select_bound);
        count.bind(1, std::int64_t{2});
        REQUIRE(count.step());
        CHECK(count.integer(0) == 1);
    }
    // Unbound, ?1 is NULL, and no row equals NULL.
    sqlite_statement count(fixture.db, select_bound);
    REQUIRE(count.step());
    CHECK(count.integer(0) == 0);
}

TEST_CASE("kept statement follows schema changes", "[store][sqlite]") {
    numbers_database fixture;
    const std::string select_star = "SELECT * FROM t LIMIT 1";
    {
        sqlite_statement row(fixture.db, select_star);
        REQUIRE(row.step());
    }
    fixture.db.execute("ALTER TABLE t ADD COLUMN label TEXT DEFAULT 'x'");
    {
        sqlite_statement row(fixture.db, select_star);
        REQUIRE(row.step());
        CHECK(row.text(1) == "x");
    }
    fixture.db.execute("DROP TABLE t");
    const auto use = [&fixture, &select_star] {
        sqlite_statement row(fixture.db, select_star);
        return row.step();
    };
    CHECK_THROWS_WITH(use(), "database: no such table: t");
}

TEST_CASE("nested statements of one SQL iterate apart", "[store][sqlite]") {
    numbers_database fixture;
    std::vector<std::string> pairs;
    sqlite_statement outer(fixture.db, select_all);
    while (outer.step()) {
        sqlite_statement inner(fixture.db, select_all);
        while (inner.step())
            pairs.push_back(std::to_string(outer.integer(0)) + std::to_string(inner.integer(0)));
    }
    CHECK(pairs == std::vector<std::string>{"11", "12", "13", "21", "22", "23", "31", "32", "33"});
}

TEST_CASE("statement cache serves several threads", "[store][sqlite]") {
    numbers_database fixture;
    std::vector<std::thread> threads;
    std::vector<int> wrong(4, 0);
    for (std::size_t t = 0; t < wrong.size(); ++t) {
        threads.emplace_back([&fixture, &wrong, t] {
            for (int i = 0; i < 500; ++i) {
                const std::int64_t value = 1 + (i + static_cast<int>(t)) % 4;
                sqlite_statement count(fixture.db, select_bound);
                count.bind(1, value);
                if (!count.step() || count.integer(0) != (value <= 3 ? 1 : 0)) ++wrong[t];
            }
        });
    }
    for (std::thread& thread : threads)
        thread.join();
    CHECK(wrong == std::vector<int>(4, 0));
}

TEST_CASE("connection with kept statements closes cleanly", "[store][sqlite]") {
    dockwright::test::temp_dir dir;
    const fs::path path = dir.path() / "test.db";
    {
        sqlite_connection db(path.string());
        db.execute("PRAGMA journal_mode=WAL");
        db.execute("CREATE TABLE t(n INTEGER); INSERT INTO t VALUES (1);");
        sqlite_statement row(db, "SELECT n FROM t");
        REQUIRE(row.step());
    }
    // The last connection to close a WAL database checkpoints it and removes the -wal file.
    // An unfinalised statement would make sqlite3_close fail and leave the file behind.
    CHECK_FALSE(fs::exists(dir.path() / "test.db-wal"));
}
