// Private database helpers of the store for repository digests and the schema version.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dockwright/store/store.hpp"
#include "sqlite.hpp"

namespace dockwright::detail {

/// Brings the database of a store written by an older dockwright to the current schema
/// (PRAGMA user_version), in one transaction. Runs every time a store opens; a database at
/// the current version is left alone.
void upgrade_schema(const sqlite_connection& db);

/// Returns the repository digests (`docker.io/library/busybox@sha256:...`) of an image,
/// sorted byte-wise by that full text, as Docker's reference store sorts References().
[[nodiscard]] std::vector<std::string> repo_digests_of(const sqlite_connection& db,
                                                       std::string_view image_id);

/// Returns the image ID a repository digest names, if the store has that repository digest.
[[nodiscard]] std::optional<std::string> repo_digest_image(const sqlite_connection& db,
                                                           std::string_view name);

/// Points the repository digest `name` at `image_id`. When the digest already names another
/// image, it is moved only with `replace`. Returns the image it named before, if that
/// differs. Runs inside the caller's open transaction.
std::optional<std::string> put_repo_digest(const sqlite_connection& db, std::string_view name,
                                           std::string_view image_id, bool replace);

/// Removes the repository digest `name`. Runs inside the caller's open transaction.
void erase_repo_digest(const sqlite_connection& db, std::string_view name);

/// Appends a problem for every repository digest row that is not a valid digest reference
/// or that names a missing image.
void verify_repo_digests(const sqlite_connection& db, std::vector<verify_problem>& problems);

}  // namespace dockwright::detail
