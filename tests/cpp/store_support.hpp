// Helpers for the store tests: a one-layer image committed with tags, and SQL run on a
// store's database from outside the store.
#pragma once

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <dockwright/layer/tar_writer.hpp>
#include <dockwright/store/store.hpp>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace dockwright::test {

/// Records a one-layer image whose only file contains `content`, with the given tags and
/// image_commit::repo_digests.
inline digest commit_image_with(store& target, const std::string& content,
                                const std::vector<std::string>& tags,
                                const std::vector<std::string>& repo_digests = {}) {
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
    for (const auto& name : tags)
        request.references.push_back(reference::parse_tagged(name));
    for (const auto& name : repo_digests)
        request.repo_digests.push_back(reference::parse(name));
    return target.commit_image(request).id;
}

/// Runs SQL on the store's database outside the store, as an older dockwright, a user or a
/// damaged file would leave it.
inline void run_sql(const std::filesystem::path& root, const std::string& sql) {
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

}  // namespace dockwright::test
