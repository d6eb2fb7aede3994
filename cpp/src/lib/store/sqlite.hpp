// Private RAII wrappers for the SQLite connection and prepared statements of the store.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "dockwright/store/store_error.hpp"

namespace dockwright::detail {

/// An SQLite connection, closed on destruction. It keeps the statements it prepared for
/// reuse: parsing the SQL of the few statements an image commit runs cost more than running
/// them (a build committing 21 images spent 4% of its time in SQLite's parser).
class sqlite_connection {
  public:
    explicit sqlite_connection(const std::string& path) {
        if (sqlite3_open_v2(path.c_str(), &db_,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                            nullptr) != SQLITE_OK) {
            std::string reason = db_ ? sqlite3_errmsg(db_) : "out of memory";
            sqlite3_close(db_);
            throw store_error(path, "cannot open the database: " + reason);
        }
    }
    sqlite_connection(const sqlite_connection&) = delete;
    sqlite_connection& operator=(const sqlite_connection&) = delete;
    ~sqlite_connection() {
        for (const auto& [sql, statement] : idle_)
            sqlite3_finalize(statement);
        sqlite3_close(db_);
    }

    [[nodiscard]] sqlite3* get() const noexcept { return db_; }

    /// A prepared statement for `sql`: one kept from an earlier use, else a new one. The
    /// caller owns it until it hands it back with give_back().
    [[nodiscard]] sqlite3_stmt* take(std::string_view sql) const {
        {
            const std::lock_guard guard(idle_lock_);
            if (const auto found = idle_.find(sql); found != idle_.end()) {
                sqlite3_stmt* statement = found->second;
                idle_.erase(found);
                return statement;
            }
        }
        sqlite3_stmt* statement = nullptr;
        if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &statement,
                               nullptr) != SQLITE_OK) {
            sqlite3_finalize(statement);
            throw store_error("database", sqlite3_errmsg(db_));
        }
        return statement;
    }

    /// Resets a statement from take() and keeps it for the next use of the same SQL. One copy
    /// is kept per SQL text, so a second one from overlapping uses is finalised.
    void give_back(sqlite3_stmt* statement) const noexcept {
        sqlite3_reset(statement);
        sqlite3_clear_bindings(statement);
        const char* sql = sqlite3_sql(statement);
        const std::lock_guard guard(idle_lock_);
        if (sql == nullptr || !idle_.emplace(sql, statement).second) sqlite3_finalize(statement);
    }

    void execute(const std::string& sql) const {
        char* message = nullptr;
        if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
            std::string reason = message ? message : sqlite3_errmsg(db_);
            sqlite3_free(message);
            throw store_error("database", reason + " (in: " + sql.substr(0, 60) + ")");
        }
    }

  private:
    sqlite3* db_ = nullptr;
    mutable std::mutex idle_lock_;
    mutable std::map<std::string, sqlite3_stmt*, std::less<>> idle_;
};

/// A prepared statement, borrowed from the connection's reusable ones; bind parameters with
/// bind(), then step() through the rows.
class sqlite_statement {
  public:
    sqlite_statement(const sqlite_connection& db, std::string_view sql)
        : connection_(db), db_(db.get()), statement_(db.take(sql)) {}
    sqlite_statement(const sqlite_statement&) = delete;
    sqlite_statement& operator=(const sqlite_statement&) = delete;
    ~sqlite_statement() { connection_.give_back(statement_); }

    sqlite_statement& bind(int index, std::string_view text) {
        check(sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()),
                                SQLITE_TRANSIENT));
        return *this;
    }
    sqlite_statement& bind(int index, std::int64_t number) {
        check(sqlite3_bind_int64(statement_, index, number));
        return *this;
    }
    sqlite_statement& bind_optional(int index, const std::optional<std::string>& text) {
        if (!text) {
            check(sqlite3_bind_null(statement_, index));
            return *this;
        }
        return bind(index, std::string_view(*text));
    }

    /// Advances to the next row; returns false when there is none.
    bool step() {
        const int status = sqlite3_step(statement_);
        if (status == SQLITE_ROW) return true;
        if (status == SQLITE_DONE) return false;
        throw store_error("database", sqlite3_errmsg(db_));
    }
    void run() {
        while (step()) {
        }
    }

    [[nodiscard]] std::string text(int column) const {
        const auto* data = sqlite3_column_text(statement_, column);
        if (!data) return {};
        return std::string(reinterpret_cast<const char*>(data),
                           static_cast<std::size_t>(sqlite3_column_bytes(statement_, column)));
    }
    [[nodiscard]] std::optional<std::string> optional_text(int column) const {
        if (sqlite3_column_type(statement_, column) == SQLITE_NULL) return std::nullopt;
        return text(column);
    }
    [[nodiscard]] std::int64_t integer(int column) const {
        return sqlite3_column_int64(statement_, column);
    }

  private:
    void check(int status) const {
        if (status != SQLITE_OK) throw store_error("database", sqlite3_errmsg(db_));
    }

    const sqlite_connection& connection_;
    sqlite3* db_;
    sqlite3_stmt* statement_ = nullptr;
};

/// A write transaction (BEGIN IMMEDIATE, so the write lock is taken up front and waits for
/// the busy timeout), rolled back on destruction unless committed.
class sqlite_transaction {
  public:
    explicit sqlite_transaction(const sqlite_connection& db) : db_(db) {
        db_.execute("BEGIN IMMEDIATE");
    }
    sqlite_transaction(const sqlite_transaction&) = delete;
    sqlite_transaction& operator=(const sqlite_transaction&) = delete;
    ~sqlite_transaction() {
        if (!done_) sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
    void commit() {
        db_.execute("COMMIT");
        done_ = true;
    }

  private:
    const sqlite_connection& db_;
    bool done_ = false;
};

}  // namespace dockwright::detail
