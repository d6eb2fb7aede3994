// Repository digests in the metadata database, and the schema upgrades of older stores.
#include "repo_digests.hpp"

#include "dockwright/core/error.hpp"
#include "dockwright/store/reference.hpp"

namespace dockwright::detail {

namespace {

/// The schema version this code writes. Version 0 is every store made before versions were
/// recorded; version 1 adds the repo_digests table.
constexpr std::int64_t current_schema_version = 1;

std::int64_t schema_version(const sqlite_connection& db) {
    sqlite_statement row(db, "PRAGMA user_version");
    return row.step() ? row.integer(0) : 0;
}

}  // namespace

void upgrade_schema(const sqlite_connection& db) {
    if (schema_version(db) >= current_schema_version) return;
    sqlite_transaction transaction(db);
    // Another process may have upgraded the database between the check and the transaction.
    if (schema_version(db) >= current_schema_version) return;
    // A repository digest is a reference `<repository>@<digest>` to a manifest or index that
    // a registry served for this image. ON DELETE CASCADE removes it with its image.
    db.execute(R"sql(
CREATE TABLE IF NOT EXISTS repo_digests(
    name TEXT PRIMARY KEY,
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);
CREATE INDEX IF NOT EXISTS repo_digests_image ON repo_digests(image_id);
)sql");
    db.execute("PRAGMA user_version = " + std::to_string(current_schema_version));
    transaction.commit();
}

std::vector<std::string> repo_digests_of(const sqlite_connection& db, std::string_view image_id) {
    sqlite_statement rows(db, "SELECT name FROM repo_digests WHERE image_id = ?1 ORDER BY name");
    rows.bind(1, image_id);
    std::vector<std::string> names;
    while (rows.step())
        names.push_back(rows.text(0));
    return names;
}

std::optional<std::string> repo_digest_image(const sqlite_connection& db, std::string_view name) {
    sqlite_statement row(db, "SELECT image_id FROM repo_digests WHERE name = ?1");
    row.bind(1, name);
    if (!row.step()) return std::nullopt;
    return row.text(0);
}

std::optional<std::string> put_repo_digest(const sqlite_connection& db, std::string_view name,
                                           std::string_view image_id, bool replace) {
    std::optional<std::string> previous = repo_digest_image(db, name);
    if (previous && (*previous == image_id || !replace)) return std::nullopt;
    sqlite_statement upsert(db,
                            "INSERT INTO repo_digests(name, image_id) VALUES(?1, ?2) "
                            "ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id");
    upsert.bind(1, name).bind(2, image_id);
    upsert.run();
    return previous;
}

void erase_repo_digest(const sqlite_connection& db, std::string_view name) {
    sqlite_statement erase(db, "DELETE FROM repo_digests WHERE name = ?1");
    erase.bind(1, name);
    erase.run();
}

void verify_repo_digests(const sqlite_connection& db, std::vector<verify_problem>& problems) {
    sqlite_statement rows(db,
                          "SELECT name, image_id, image_id IN (SELECT id FROM images) "
                          "FROM repo_digests ORDER BY name");
    while (rows.step()) {
        const std::string name = rows.text(0);
        const std::string subject = "repository digest " + name;
        try {
            const reference parsed = reference::parse(name);
            if (!parsed.digest() || parsed.tag()) {
                problems.push_back({subject, "is not of the form NAME@DIGEST"});
            }
        } catch (const invalid_value_error& e) {
            problems.push_back({subject, std::string("is not a valid reference: ") + e.what()});
        }
        if (rows.integer(2) == 0) {
            problems.push_back({subject, "names the missing image " + rows.text(1)});
        }
    }
}

}  // namespace dockwright::detail
