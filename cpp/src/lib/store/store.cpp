// The store: blob files, the metadata database, lookups, tags, removal, prune and verify.
#include "dockwright/store/store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <new>
#include <set>
#include <stdexcept>
#include <thread>

#include "../core/unique_fd.hpp"
#include "dockwright/core/time.hpp"
#include "dockwright/layer/apply.hpp"
#include "dockwright/layer/layer_error.hpp"
#include "files.hpp"
#include "repo_digests.hpp"
#include "sqlite.hpp"

namespace dockwright {

namespace fs = std::filesystem;

namespace {

constexpr const char* schema = R"sql(
CREATE TABLE IF NOT EXISTS layers(
    diff_id TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    compressed_digest TEXT,
    compressed_size INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS images(
    id TEXT PRIMARY KEY,
    parent TEXT,
    created TEXT NOT NULL,
    size INTEGER NOT NULL,
    added TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS image_layers(
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    diff_id TEXT NOT NULL REFERENCES layers(diff_id),
    PRIMARY KEY(image_id, position));
CREATE TABLE IF NOT EXISTS refs(
    name TEXT PRIMARY KEY,
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS snapshots(
    chain_id TEXT PRIMARY KEY,
    parent TEXT,
    top_diff_id TEXT NOT NULL,
    created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS build_cache(
    cache_key TEXT PRIMARY KEY,
    image_id TEXT REFERENCES images(id) ON DELETE CASCADE,
    created TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS images_parent ON images(parent);
CREATE INDEX IF NOT EXISTS refs_image ON refs(image_id);
CREATE INDEX IF NOT EXISTS image_layers_diff ON image_layers(diff_id);
)sql";

/// Returns whether the database has every table and index that `schema` creates.
bool has_base_schema(const detail::sqlite_connection& db) {
    detail::sqlite_statement count(
        db,
        "SELECT count(*) FROM sqlite_master WHERE name IN ('layers', 'images', 'image_layers', "
        "'refs', 'snapshots', 'build_cache', 'images_parent', 'refs_image', "
        "'image_layers_diff')");
    return count.step() && count.integer(0) == 9;
}

bool is_lower_hex(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    });
}

std::optional<digest> optional_digest(const std::optional<std::string>& text) {
    if (!text || text->empty()) return std::nullopt;
    return digest::parse(*text);
}

}  // namespace

struct store::database {
    explicit database(const fs::path& path) : connection(path.string()) {
        sqlite3_busy_timeout(connection.get(), 60000);
        // Switching to WAL needs a moment of exclusive access that a concurrent opener may hold.
        // The busy handler waits for it, and the loop retries when SQLite returns SQLITE_BUSY
        // without calling the handler.
        for (int attempt = 0;; ++attempt) {
            try {
                connection.execute("PRAGMA journal_mode=WAL");
                break;
            } catch (const store_error&) {
                if (attempt >= 50) throw;
                ::usleep(100000);
            }
        }
        connection.execute("PRAGMA synchronous=FULL");
        connection.execute("PRAGMA foreign_keys=ON");
        // Parsing the schema's statements costs more than the rest of opening the store, so
        // the script runs only when a table or index is missing. Counting them is one query.
        if (!has_base_schema(connection)) connection.execute(schema);
    }
    detail::sqlite_connection connection;
};

// ---- blob_writer -------------------------------------------------------------------------

namespace {

/// The writer's buffer: 1 MiB, aligned for O_DIRECT on any block size up to a page.
constexpr std::size_t blob_buffer_size = std::size_t{1} << 20;
constexpr std::size_t blob_buffer_alignment = 4096;

/// Writes all of `size` bytes. When the file was opened with O_DIRECT and the kernel refuses
/// a write (EINVAL: an alignment this file system does not accept), the flag is dropped and
/// the write repeated through the page cache.
void write_all(int fd, const std::byte* data, std::size_t size, const fs::path& path,
               bool& direct) {
    std::size_t done = 0;
    while (done < size) {
        const ssize_t count = ::write(fd, data + done, size - done);
        if (count < 0 && errno == EINTR) continue;
        if (count < 0 && errno == EINVAL && direct) {
            direct = false;
            if (::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_DIRECT) == 0) continue;
        }
        if (count < 0) {
            throw store_error(path.string(), std::string("write failed: ") + std::strerror(errno));
        }
        done += static_cast<std::size_t>(count);
    }
}

}  // namespace

void blob_writer::aligned_free::operator()(std::byte* memory) const noexcept {
    std::free(memory);
}

blob_writer::buffer_ptr blob_writer::allocate_buffer() {
    void* memory = std::aligned_alloc(blob_buffer_alignment, blob_buffer_size);
    if (memory == nullptr) throw std::bad_alloc();
    return buffer_ptr(static_cast<std::byte*>(memory));
}

/// A thread that writes full buffers to the blob's file in order, with a few buffers in
/// flight, so that writing overlaps with the caller's hashing and encoding. The first
/// failure is kept and thrown to the caller by the next submit() or by finish().
class blob_writer::background_writer {
  public:
    background_writer(int fd, const fs::path& path, bool& direct)
        : fd_(fd), path_(path), direct_(direct), thread_([this] { run(); }) {}

    ~background_writer() {
        {
            const std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        changed_.notify_all();
        if (thread_.joinable()) thread_.join();
    }
    background_writer(const background_writer&) = delete;
    background_writer& operator=(const background_writer&) = delete;

    /// Queues `full` for writing and returns an empty buffer, waiting while every buffer is in
    /// flight.
    buffer_ptr submit(buffer_ptr full) {
        std::unique_lock lock(mutex_);
        rethrow();
        queue_.push_back(std::move(full));
        changed_.notify_all();
        if (free_.empty() && made_ < in_flight_limit) {
            ++made_;
            lock.unlock();
            return allocate_buffer();
        }
        changed_.wait(lock, [this] { return !free_.empty() || failure_; });
        rethrow();
        buffer_ptr next = std::move(free_.back());
        free_.pop_back();
        return next;
    }

    /// Waits until every queued buffer is written, then stops the thread.
    void finish() {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [this] { return (queue_.empty() && !busy_) || failure_; });
        stopping_ = true;
        changed_.notify_all();
        lock.unlock();
        thread_.join();
        rethrow();
    }

  private:
    static constexpr int in_flight_limit = 4;

    void rethrow() {
        if (failure_) std::rethrow_exception(failure_);
    }

    void run() {
        std::unique_lock lock(mutex_);
        while (true) {
            changed_.wait(lock, [this] { return !queue_.empty() || stopping_; });
            if (queue_.empty()) return;
            buffer_ptr buffer = std::move(queue_.front());
            queue_.pop_front();
            busy_ = true;
            lock.unlock();
            std::exception_ptr failed;
            try {
                write_all(fd_, buffer.get(), blob_buffer_size, path_, direct_);
            } catch (...) {
                failed = std::current_exception();
            }
            lock.lock();
            busy_ = false;
            free_.push_back(std::move(buffer));
            if (failed && !failure_) failure_ = failed;
            changed_.notify_all();
            if (failure_) return;
        }
    }

    int fd_;
    fs::path path_;
    bool& direct_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<buffer_ptr> queue_;
    std::vector<buffer_ptr> free_;
    int made_ = 1;  // the caller's buffer
    bool busy_ = false;
    bool stopping_ = false;
    std::exception_ptr failure_;
    std::thread thread_;
};

// The temporary file is created when the first buffer fills or at commit(), so a blob that is
// never committed (the empty layer of a RUN that changed nothing) costs no file creation.
blob_writer::blob_writer(const store& owner, blob_durability durability, blob_hashing hashing)
    : owner_(owner), hashing_(hashing), durability_(durability) {
    temp_path_ = owner.root() / "tmp" / detail::unique_name("blob-");
    buffer_ = allocate_buffer();
}

blob_writer::~blob_writer() {
    background_.reset();  // stops the thread before the file goes
    if (fd_ >= 0) {
        ::close(fd_);
        ::unlink(temp_path_.c_str());
    }
}

void blob_writer::open_file(bool direct) {
    constexpr int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
    if (direct) {
        fd_ = ::open(temp_path_.c_str(), flags | O_DIRECT, 0644);
        if (fd_ >= 0) {
            direct_ = true;
            return;
        }
        if (errno != EINVAL) {
            throw store_error(temp_path_.string(),
                              std::string("cannot create: ") + std::strerror(errno));
        }
        // The file system has no direct I/O; the open may have created the file already.
        ::unlink(temp_path_.c_str());
    }
    fd_ = ::open(temp_path_.c_str(), flags, 0644);
    if (fd_ < 0) {
        throw store_error(temp_path_.string(),
                          std::string("cannot create: ") + std::strerror(errno));
    }
}

void blob_writer::flush_full_buffer() {
    if (fd_ < 0) {
        open_file(true);
        background_ = std::make_unique<background_writer>(fd_, temp_path_, direct_);
    }
    buffer_ = background_->submit(std::move(buffer_));
    buffered_ = 0;
}

void blob_writer::write(std::span<const std::byte> bytes) {
    if (hashing_ == blob_hashing::compute) hasher_.update(bytes);
    size_ += bytes.size();
    while (!bytes.empty()) {
        const std::size_t take = std::min(blob_buffer_size - buffered_, bytes.size());
        std::memcpy(buffer_.get() + buffered_, bytes.data(), take);
        buffered_ += take;
        bytes = bytes.subspan(take);
        if (buffered_ == blob_buffer_size) flush_full_buffer();
    }
}

digest blob_writer::commit(const std::optional<digest>& expected) {
    if (hashing_ == blob_hashing::supplied && !expected) {
        throw std::invalid_argument("blob_writer::commit: the caller supplies the digest");
    }
    if (background_) {
        background_->finish();
        background_.reset();
    }
    if (fd_ < 0) {
        // The whole blob fits the buffer: an ordinary write through the page cache.
        open_file(false);
    } else if (direct_) {
        // Every earlier write ended on a buffer boundary; the tail goes through the page cache,
        // so its length needs no alignment.
        direct_ = false;
        if (::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) & ~O_DIRECT) != 0) {
            throw store_error(temp_path_.string(),
                              std::string("cannot leave direct I/O: ") + std::strerror(errno));
        }
    }
    write_all(fd_, buffer_.get(), buffered_, temp_path_, direct_);
    buffered_ = 0;
    const digest actual = hashing_ == blob_hashing::supplied ? *expected : hasher_.finish();
    if (expected && *expected != actual) {
        throw store_error(expected->str(), "content has digest " + actual.str());
    }
    const bool sync = durability_ == blob_durability::immediate;
    if (sync && ::fsync(fd_) != 0) {
        throw store_error(temp_path_.string(),
                          std::string("fsync failed: ") + std::strerror(errno));
    }
    ::close(fd_);
    fd_ = -1;
    const fs::path target = owner_.blob_path(actual);
    if (::rename(temp_path_.c_str(), target.c_str()) != 0) {
        const std::string reason = std::strerror(errno);
        ::unlink(temp_path_.c_str());
        throw store_error(target.string(), "cannot move the blob into place: " + reason);
    }
    if (sync) detail::fsync_directory(target.parent_path());
    return actual;
}

// ---- store --------------------------------------------------------------------------------

store::writer_lock::~writer_lock() {
    if (fd_ >= 0) ::close(fd_);
}

store::store(fs::path root) : root_(std::move(root)) {
    std::error_code failure;
    for (const char* sub : {"blobs/sha256", "snapshots", "tmp"}) {
        fs::create_directories(root_ / sub, failure);
        if (failure) throw store_error(root_.string(), "cannot create: " + failure.message());
    }
    db_ = std::make_unique<database>(root_ / "metadata.db");
    detail::upgrade_schema(db_->connection);
}

store::~store() = default;

fs::path store::default_root() {
    if (const char* root = std::getenv("DOCKWRIGHT_ROOT"); root && *root) return root;
    if (::geteuid() == 0) return "/var/lib/dockwright";
    if (const char* data = std::getenv("XDG_DATA_HOME"); data && *data) {
        return fs::path(data) / "dockwright";
    }
    if (const char* home = std::getenv("HOME"); home && *home) {
        return fs::path(home) / ".local/share/dockwright";
    }
    throw store_error("", "no store location: set DOCKWRIGHT_ROOT or HOME");
}

fs::path store::blob_path(const digest& id) const {
    return root_ / "blobs" / std::string(algorithm_name(id.algorithm())) / std::string(id.hex());
}

bool store::has_blob(const digest& id) const {
    std::error_code ignored;
    return fs::is_regular_file(blob_path(id), ignored);
}

std::string store::read_blob(const digest& id) const {
    if (!has_blob(id)) throw store_error(id.str(), "blob is missing from the store");
    return detail::read_small_file(blob_path(id), id.str(), std::uint64_t{1} << 30);
}

digest store::write_blob(std::string_view bytes) {
    const digest id = digest::sha256_of(bytes);
    if (has_blob(id)) return id;
    blob_writer writer(*this);
    writer.write(bytes);
    return writer.commit(id);
}

fs::path store::make_temp_dir(std::string_view prefix) const {
    const fs::path path = root_ / "tmp" / detail::unique_name(prefix);
    std::error_code failure;
    fs::create_directory(path, failure);
    if (failure) throw store_error(path.string(), "cannot create: " + failure.message());
    return path;
}

namespace {

int open_lock(const fs::path& root, int operation) {
    const fs::path path = root / "gc.lock";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        throw store_error(path.string(), std::string("cannot open: ") + std::strerror(errno));
    while (::flock(fd, operation) != 0) {
        if (errno == EINTR) continue;
        const std::string reason = std::strerror(errno);
        ::close(fd);
        throw store_error(path.string(), "cannot lock: " + reason);
    }
    return fd;
}

}  // namespace

store::writer_lock store::lock_for_writing() const {
    return writer_lock(open_lock(root_, LOCK_SH));
}

std::uint64_t store::checked_layer_size(const image_commit& request) const {
    std::uint64_t size = 0;
    for (const auto& layer : request.layers) {
        std::error_code failure;
        const auto actual = fs::file_size(blob_path(layer.diff_id), failure);
        if (failure) throw store_error(layer.diff_id.str(), "layer blob is missing");
        if (actual != layer.size) {
            throw store_error(layer.diff_id.str(), "layer blob has " + std::to_string(actual) +
                                                       " bytes, expected " +
                                                       std::to_string(layer.size));
        }
        size += layer.size;
    }
    return size;
}

commit_result store::insert_image_rows(const image_commit& request, const digest& id,
                                       const std::string& created) {
    const auto& db = db_->connection;
    for (const auto& layer : request.layers) {
        detail::sqlite_statement insert(
            db,
            "INSERT INTO layers(diff_id, size, compressed_digest, compressed_size) "
            "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(diff_id) DO UPDATE SET "
            "compressed_digest = coalesce(layers.compressed_digest, excluded.compressed_digest),"
            " compressed_size = CASE WHEN layers.compressed_digest IS NULL "
            "THEN excluded.compressed_size ELSE layers.compressed_size END");
        insert.bind(1, layer.diff_id.str()).bind(2, static_cast<std::int64_t>(layer.size));
        insert.bind_optional(3, layer.compressed_digest
                                    ? std::optional(layer.compressed_digest->str())
                                    : std::nullopt);
        insert.bind(4, static_cast<std::int64_t>(layer.compressed_size));
        insert.run();
    }
    detail::sqlite_statement exists(db, "SELECT 1 FROM images WHERE id = ?1");
    exists.bind(1, id.str());
    if (!exists.step()) {
        detail::sqlite_statement insert(
            db, "INSERT INTO images(id, parent, created, size, added) VALUES(?1,?2,?3,?4,?5)");
        insert.bind(1, id.str());
        insert.bind_optional(2,
                             request.parent ? std::optional(request.parent->str()) : std::nullopt);
        insert.bind(3, created);
        insert.bind(4, static_cast<std::int64_t>(checked_layer_size(request)));
        insert.bind(5, timestamp::now().str());
        insert.run();
        for (std::size_t i = 0; i < request.layers.size(); ++i) {
            detail::sqlite_statement link(
                db, "INSERT INTO image_layers(image_id, position, diff_id) VALUES(?1,?2,?3)");
            link.bind(1, id.str()).bind(2, static_cast<std::int64_t>(i));
            link.bind(3, request.layers[i].diff_id.str());
            link.run();
        }
    }
    commit_result result{id, {}};
    for (const auto& target : request.references) {
        if (target.digest()) {
            const auto previous = detail::put_repo_digest(
                db, target.with_digest(*target.digest()).str(), id.str(), true);
            if (previous) result.moved_references.emplace_back(target, digest::parse(*previous));
            continue;
        }
        detail::sqlite_statement old(db, "SELECT image_id FROM refs WHERE name = ?1");
        old.bind(1, target.str());
        if (old.step()) {
            const digest previous = digest::parse(old.text(0));
            if (previous != id) result.moved_references.emplace_back(target, previous);
        }
        detail::sqlite_statement upsert(
            db,
            "INSERT INTO refs(name, image_id) VALUES(?1, ?2) "
            "ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id");
        upsert.bind(1, target.str()).bind(2, id.str());
        upsert.run();
    }
    for (const auto& target : request.repo_digests) {
        if (!target.digest()) {
            throw invalid_value_error("reference", target.str(),
                                      "has no digest, so it is no repository digest (NAME@DIGEST)");
        }
        detail::put_repo_digest(db, target.with_digest(*target.digest()).str(), id.str(), false);
    }
    return result;
}

commit_result store::commit_image(const image_commit& request) {
    return commit_images(std::span(&request, 1)).front();
}

namespace {

/// Fsyncs the files: the first pass starts the write-back of every file, then threads wait
/// for them together. On the test machine's disk each fsync ended with a cache flush of about
/// 4 ms. Fsyncs in flight at once share one journal commit and its flush, so they cost about
/// one flush instead of one each.
void fsync_files(const std::vector<fs::path>& paths) {
    std::vector<unique_fd> files;
    files.reserve(paths.size());
    for (const fs::path& path : paths) {
        unique_fd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!file) {
            throw store_error(path.string(), std::string("cannot open: ") + std::strerror(errno));
        }
        ::sync_file_range(file.get(), 0, 0, SYNC_FILE_RANGE_WRITE);
        files.push_back(std::move(file));
    }
    constexpr std::size_t max_threads = 8;
    const std::size_t count = std::min(max_threads, files.size());
    std::vector<std::string> failures(files.size());
    const auto work = [&](std::size_t first) {
        for (std::size_t i = first; i < files.size(); i += count) {
            if (::fsync(files[i].get()) != 0) failures[i] = std::strerror(errno);
        }
    };
    {
        std::vector<std::jthread> threads;
        for (std::size_t i = 1; i < count; ++i)
            threads.emplace_back(work, i);
        if (count > 0) work(0);
    }
    for (std::size_t i = 0; i < failures.size(); ++i) {
        if (!failures[i].empty())
            throw store_error(paths[i].string(), "fsync failed: " + failures[i]);
    }
}

}  // namespace

std::vector<commit_result> store::commit_images(std::span<const image_commit> requests) {
    if (requests.empty()) return {};
    std::vector<digest> ids;
    ids.reserve(requests.size());
    std::vector<std::string> created;
    created.reserve(requests.size());
    std::set<std::string> seen;
    std::vector<fs::path> blobs;
    const auto add_blob = [&](const digest& blob) {
        if (seen.insert(blob.str()).second) blobs.push_back(blob_path(blob));
    };
    for (const image_commit& request : requests) {
        // Decoding rejects an invalid config before any write.
        created.push_back(image_from_json(request.config).created.str());
        checked_layer_size(request);
        const digest id = digest::sha256_of(request.config);
        if (!has_blob(id)) {
            blob_writer writer(*this, blob_durability::deferred);
            writer.write(std::as_bytes(std::span(request.config.data(), request.config.size())));
            writer.commit(id);
        }
        add_blob(id);
        for (const layer_record& layer : request.layers)
            add_blob(layer.diff_id);
        ids.push_back(id);
    }
    // A blob written before with blob_durability::deferred, or by a process that was killed
    // before its rows, becomes durable here, before any row names it.
    fsync_files(blobs);
    detail::fsync_directory(root_ / "blobs" / "sha256");

    auto& db = db_->connection;
    detail::sqlite_transaction transaction(db);
    std::vector<commit_result> results;
    results.reserve(requests.size());
    for (std::size_t i = 0; i < requests.size(); ++i)
        results.push_back(insert_image_rows(requests[i], ids[i], created[i]));
    transaction.commit();
    return results;
}

image_record store::get(const digest& id) const {
    auto& db = db_->connection;
    detail::sqlite_statement row(db, "SELECT parent, created, size FROM images WHERE id = ?1");
    row.bind(1, id.str());
    if (!row.step()) throw image_not_found_error(id.str());
    image_record record{id, std::nullopt, {}, {}, {}, 0, {}};
    record.parent = optional_digest(row.optional_text(0));
    record.created = row.text(1);
    record.size = static_cast<std::uint64_t>(row.integer(2));
    detail::sqlite_statement refs(db, "SELECT name FROM refs WHERE image_id = ?1 ORDER BY name");
    refs.bind(1, id.str());
    while (refs.step())
        record.references.push_back(refs.text(0));
    detail::sqlite_statement layers(
        db, "SELECT diff_id FROM image_layers WHERE image_id = ?1 ORDER BY position");
    layers.bind(1, id.str());
    while (layers.step())
        record.diff_ids.push_back(digest::parse(layers.text(0)));
    record.repo_digests = detail::repo_digests_of(db, id.str());
    return record;
}

std::vector<image_record> store::images() const {
    std::vector<digest> ids;
    {
        detail::sqlite_statement rows(db_->connection,
                                      "SELECT id FROM images ORDER BY created DESC, id");
        while (rows.step())
            ids.push_back(digest::parse(rows.text(0)));
    }
    std::vector<image_record> result;
    result.reserve(ids.size());
    for (const auto& id : ids)
        result.push_back(get(id));
    return result;
}

std::optional<image_record> store::find(std::string_view text) const {
    auto& db = db_->connection;
    auto image_exists = [&](const std::string& id) {
        detail::sqlite_statement row(db, "SELECT 1 FROM images WHERE id = ?1");
        row.bind(1, id);
        return row.step();
    };
    if (text.starts_with("sha256:")) {
        try {
            const digest id = digest::parse(text);
            if (image_exists(id.str())) return get(id);
        } catch (const invalid_value_error&) {
        }
    }
    try {
        const reference target = reference::parse_tagged(text);
        detail::sqlite_statement row(db, "SELECT image_id FROM refs WHERE name = ?1");
        row.bind(1, target.str());
        if (row.step()) return get(digest::parse(row.text(0)));
        // As Docker's reference store, a reference with a tag and a digest is looked up by
        // its digest alone.
        if (target.digest()) {
            const auto id =
                detail::repo_digest_image(db, target.with_digest(*target.digest()).str());
            if (id) return get(digest::parse(*id));
        }
        if (target.digest() && !target.tag() && image_exists(target.digest()->str())) {
            return get(*target.digest());
        }
    } catch (const invalid_value_error&) {
    }
    std::string_view prefix = text;
    if (prefix.starts_with("sha256:")) prefix.remove_prefix(7);
    if (is_lower_hex(prefix) && prefix.size() <= 64) {
        detail::sqlite_statement rows(db, "SELECT id FROM images WHERE substr(id, 8, ?1) = ?2");
        rows.bind(1, static_cast<std::int64_t>(prefix.size())).bind(2, prefix);
        std::vector<std::string> matches;
        while (rows.step())
            matches.push_back(rows.text(0));
        if (matches.size() > 1) {
            throw store_error(std::string(text), "image ID prefix is ambiguous (" +
                                                     std::to_string(matches.size()) +
                                                     " images match)");
        }
        if (matches.size() == 1) return get(digest::parse(matches.front()));
    }
    return std::nullopt;
}

image_record store::resolve(std::string_view text) const {
    auto found = find(text);
    if (!found) throw image_not_found_error(std::string(text));
    return std::move(*found);
}

std::string store::config_bytes(const digest& id) const {
    return read_blob(id);
}

image store::config(const digest& id) const {
    return image_from_json(config_bytes(id));
}

layer_record store::layer(const digest& diff_id) const {
    detail::sqlite_statement row(
        db_->connection,
        "SELECT size, compressed_digest, compressed_size FROM layers WHERE diff_id = ?1");
    row.bind(1, diff_id.str());
    if (!row.step()) throw store_error(diff_id.str(), "no such layer");
    return layer_record{diff_id, static_cast<std::uint64_t>(row.integer(0)),
                        optional_digest(row.optional_text(1)),
                        static_cast<std::uint64_t>(row.integer(2))};
}

std::vector<digest> store::children(const digest& id) const {
    detail::sqlite_statement rows(db_->connection,
                                  "SELECT id FROM images WHERE parent = ?1 ORDER BY id");
    rows.bind(1, id.str());
    std::vector<digest> result;
    while (rows.step())
        result.push_back(digest::parse(rows.text(0)));
    return result;
}

std::vector<std::pair<reference, digest>> store::repository_tags(const std::string& name) const {
    detail::sqlite_statement rows(db_->connection,
                                  "SELECT name, image_id FROM refs WHERE substr(name, 1, ?1) = ?2"
                                  " ORDER BY name");
    const std::string prefix = name + ":";
    rows.bind(1, static_cast<std::int64_t>(prefix.size())).bind(2, prefix);
    std::vector<std::pair<reference, digest>> result;
    while (rows.step()) {
        result.emplace_back(reference::parse(rows.text(0)), digest::parse(rows.text(1)));
    }
    return result;
}

std::optional<digest> store::tag(const digest& id, const reference& target) {
    if (target.digest()) {
        throw invalid_value_error("reference", target.str(), "a tag cannot contain a digest");
    }
    auto& db = db_->connection;
    detail::sqlite_transaction transaction(db);
    detail::sqlite_statement exists(db, "SELECT 1 FROM images WHERE id = ?1");
    exists.bind(1, id.str());
    if (!exists.step()) throw image_not_found_error(id.str());
    std::optional<digest> previous;
    detail::sqlite_statement old(db, "SELECT image_id FROM refs WHERE name = ?1");
    old.bind(1, target.str());
    if (old.step()) previous = digest::parse(old.text(0));
    detail::sqlite_statement upsert(db,
                                    "INSERT INTO refs(name, image_id) VALUES(?1, ?2) "
                                    "ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id");
    upsert.bind(1, target.str()).bind(2, id.str());
    upsert.run();
    transaction.commit();
    return previous;
}

bool store::add_repo_digest(const digest& id, const reference& target) {
    if (!target.digest()) {
        throw invalid_value_error("reference", target.str(),
                                  "has no digest, so it is no repository digest (NAME@DIGEST)");
    }
    auto& db = db_->connection;
    detail::sqlite_transaction transaction(db);
    detail::sqlite_statement exists(db, "SELECT 1 FROM images WHERE id = ?1");
    exists.bind(1, id.str());
    if (!exists.step()) throw image_not_found_error(id.str());
    const std::string name = target.with_digest(*target.digest()).str();
    const bool added = !detail::repo_digest_image(db, name);
    if (added) detail::put_repo_digest(db, name, id.str(), false);
    transaction.commit();
    return added;
}

namespace {

/// Returns whether the references (tags and repository digests, at least two) lie in one
/// repository with at most one tag among them. moby's isSingleReference
/// (daemon/images/image_delete.go) decides with this whether `rmi ID` may remove them all
/// without --force.
bool is_single_reference(const std::vector<std::string>& tags,
                         const std::vector<std::string>& repo_digests) {
    if (tags.size() > 1) return false;
    std::set<std::string> digest_repositories;
    for (const auto& name : repo_digests)
        digest_repositories.insert(reference::parse(name).name());
    const std::string repository =
        reference::parse(tags.empty() ? repo_digests.front() : tags.front()).name();
    return digest_repositories.size() == 1 && digest_repositories.contains(repository);
}

/// Returns the references that `rmi` of the reference `named` removes, in the order of moby's
/// ImageDelete (daemon/images/image_delete.go): the reference itself, then, when it was the
/// repository's last tag, the digests of that repository, so that no repository is left with
/// digests only.
std::vector<std::string> references_to_untag(const reference& named, const image_record& image) {
    std::vector<std::string> untag{named.str()};
    if (named.digest()) return untag;
    const std::string repository = named.name();
    for (const auto& tag : image.references) {
        if (tag != named.str() && reference::parse(tag).name() == repository) return untag;
    }
    for (const auto& name : image.repo_digests) {
        if (reference::parse(name).name() == repository) untag.push_back(name);
    }
    return untag;
}

}  // namespace

std::vector<std::string> store::remove(std::string_view text, bool force) {
    const image_record found = resolve(text);
    // Tags and repository digests in the byte-wise order of their full text, the order in
    // which Docker's reference store lists them.
    std::vector<std::string> all_references = found.references;
    all_references.insert(all_references.end(), found.repo_digests.begin(),
                          found.repo_digests.end());
    std::sort(all_references.begin(), all_references.end());
    std::optional<reference> named;
    try {
        const reference parsed = reference::parse_tagged(text);
        const std::string name =
            parsed.digest() ? parsed.with_digest(*parsed.digest()).str() : parsed.str();
        if (std::find(all_references.begin(), all_references.end(), name) != all_references.end()) {
            named = reference::parse(name);
        }
    } catch (const invalid_value_error&) {
    }

    auto& db = db_->connection;
    std::vector<std::string> lines;
    std::vector<std::string> untag;
    if (named) {
        untag = references_to_untag(*named, found);
    } else {
        if (all_references.size() > 1 &&
            !is_single_reference(found.references, found.repo_digests) && !force) {
            throw store_error("conflict", "unable to delete " + found.id.short_id() +
                                              " (must be forced) - image is referenced in multiple "
                                              "repositories");
        }
        untag = all_references;
    }
    const bool delete_image = untag.size() == all_references.size();
    const auto dependents = children(found.id);
    if (delete_image && !dependents.empty() && !force && !named) {
        throw store_error("conflict", "unable to delete " + found.id.short_id() +
                                          " (cannot be forced without -f) - image has "
                                          "dependent child images");
    }

    detail::sqlite_transaction transaction(db);
    for (const auto& name : untag) {
        const reference parsed = reference::parse(name);
        if (parsed.digest()) {
            detail::erase_repo_digest(db, name);
        } else {
            detail::sqlite_statement erase(db, "DELETE FROM refs WHERE name = ?1");
            erase.bind(1, name);
            erase.run();
        }
        lines.push_back("Untagged: " + parsed.familiar());
    }
    // Untagging the last name of an image with children keeps the image, as docker does.
    if (delete_image && (dependents.empty() || force)) {
        detail::sqlite_statement orphan(db, "UPDATE images SET parent = NULL WHERE parent = ?1");
        orphan.bind(1, found.id.str());
        orphan.run();
        detail::sqlite_statement erase(db, "DELETE FROM images WHERE id = ?1");
        erase.bind(1, found.id.str());
        erase.run();
        lines.push_back("Deleted: " + found.id.str());
    }
    transaction.commit();
    if (delete_image && (dependents.empty() || force)) {
        prune_report report;
        collect_garbage(report);
    }
    return lines;
}

prune_report store::prune(bool dangling_images) {
    prune_report report;
    if (dangling_images) {
        auto& db = db_->connection;
        for (;;) {
            std::vector<std::string> dangling;
            {
                detail::sqlite_statement rows(
                    db,
                    "SELECT id FROM images i WHERE NOT EXISTS "
                    "(SELECT 1 FROM refs r WHERE r.image_id = i.id) AND NOT EXISTS "
                    "(SELECT 1 FROM repo_digests d WHERE d.image_id = i.id) AND NOT EXISTS "
                    "(SELECT 1 FROM images c WHERE c.parent = i.id) ORDER BY id");
                while (rows.step())
                    dangling.push_back(rows.text(0));
            }
            if (dangling.empty()) break;
            detail::sqlite_transaction transaction(db);
            for (const auto& id : dangling) {
                detail::sqlite_statement erase(db, "DELETE FROM images WHERE id = ?1");
                erase.bind(1, id);
                erase.run();
                report.images.push_back(digest::parse(id));
            }
            transaction.commit();
        }
    }
    collect_garbage(report);
    return report;
}

namespace {

/// Removes the build scratch directory that the symlink `link` (`tmp/scratch-*`) names. A build
/// makes such a symlink for a scratch directory outside the store, for example
/// /dev/shm/dockwright-build-*. Only a directory with that name prefix is removed, so that a
/// symlink made by hand cannot make prune delete other files.
void remove_scratch_target(const fs::path& link) {
    if (!link.filename().string().starts_with("scratch-")) return;
    std::error_code failure;
    if (!fs::is_symlink(fs::symlink_status(link, failure))) return;
    const fs::path target = fs::read_symlink(link, failure);
    if (failure || !target.is_absolute() ||
        !target.filename().string().starts_with("dockwright-build-")) {
        return;
    }
    if (fs::is_directory(fs::symlink_status(target, failure))) detail::remove_tree(target);
}

}  // namespace

void store::collect_garbage(prune_report& report) {
    const int lock = open_lock(root_, LOCK_EX);
    const writer_lock release(lock);
    auto& db = db_->connection;
    {
        detail::sqlite_transaction transaction(db);
        db.execute("DELETE FROM layers WHERE diff_id NOT IN (SELECT diff_id FROM image_layers)");
        transaction.commit();
    }
    std::set<std::string> used;
    {
        detail::sqlite_statement rows(db, "SELECT id FROM images UNION SELECT diff_id FROM layers");
        while (rows.step())
            used.insert(rows.text(0));
    }
    std::error_code failure;
    const fs::path blobs = root_ / "blobs" / "sha256";
    for (const auto& entry : fs::directory_iterator(blobs, failure)) {
        const std::string name = "sha256:" + entry.path().filename().string();
        if (used.contains(name)) continue;
        std::error_code ignored;
        const auto size = entry.file_size(ignored);
        if (fs::remove(entry.path(), ignored)) {
            ++report.blobs;
            if (!ignored) report.bytes += size;
        }
    }
    detail::fsync_directory(blobs);

    // Snapshots of the layer stacks of images still present stay; the rest go.
    std::set<std::string> wanted;
    {
        std::map<std::string, std::vector<digest>> stacks;
        detail::sqlite_statement rows(
            db, "SELECT image_id, diff_id FROM image_layers ORDER BY image_id, position");
        while (rows.step())
            stacks[rows.text(0)].push_back(digest::parse(rows.text(1)));
        for (const auto& [id, diff_ids] : stacks)
            wanted.insert(chain_id(diff_ids).str());
    }
    {
        detail::sqlite_transaction transaction(db);
        std::vector<std::string> stale;
        detail::sqlite_statement rows(db, "SELECT chain_id FROM snapshots");
        while (rows.step()) {
            if (!wanted.contains(rows.text(0))) stale.push_back(rows.text(0));
        }
        for (const auto& chain : stale) {
            detail::sqlite_statement erase(db, "DELETE FROM snapshots WHERE chain_id = ?1");
            erase.bind(1, chain);
            erase.run();
        }
        transaction.commit();
    }
    std::set<std::string> recorded;
    {
        detail::sqlite_statement rows(db, "SELECT chain_id FROM snapshots");
        while (rows.step())
            recorded.insert(rows.text(0));
    }
    for (const auto& entry : fs::directory_iterator(root_ / "snapshots", failure)) {
        if (recorded.contains("sha256:" + entry.path().filename().string())) continue;
        detail::remove_tree(entry.path());
        ++report.snapshots;
    }
    // Every writer holds the lock shared while its temporary files exist, so none is active.
    for (const auto& entry : fs::directory_iterator(root_ / "tmp", failure)) {
        remove_scratch_target(entry.path());
        detail::remove_tree(entry.path());
        ++report.temporary_files;
    }
}

std::vector<verify_problem> store::verify() const {
    std::vector<verify_problem> problems;
    auto& db = db_->connection;
    {
        detail::sqlite_statement check(db, "PRAGMA integrity_check");
        while (check.step()) {
            if (check.text(0) != "ok") problems.push_back({"database", check.text(0)});
        }
    }
    std::map<std::string, std::uint64_t> blob_sizes;
    std::error_code failure;
    for (const auto& entry : fs::directory_iterator(root_ / "blobs" / "sha256", failure)) {
        const std::string name = "sha256:" + entry.path().filename().string();
        std::optional<digest> expected;
        try {
            expected = digest::parse(name);
        } catch (const invalid_value_error&) {
            problems.push_back({entry.path().string(), "file name is not a SHA-256 digest"});
            continue;
        }
        try {
            const auto [actual, size] = detail::hash_file(entry.path());
            if (actual != *expected) {
                problems.push_back({name, "blob content has digest " + actual.str()});
            } else {
                blob_sizes[name] = size;
            }
        } catch (const store_error& e) {
            problems.push_back({name, e.reason()});
        }
    }

    std::map<std::string, std::uint64_t> layer_sizes;
    {
        detail::sqlite_statement rows(db, "SELECT diff_id, size FROM layers");
        while (rows.step()) {
            const std::string id = rows.text(0);
            layer_sizes[id] = static_cast<std::uint64_t>(rows.integer(1));
            const auto blob = blob_sizes.find(id);
            if (blob == blob_sizes.end()) {
                problems.push_back({"layer " + id, "blob is missing or corrupt"});
            } else if (blob->second != layer_sizes[id]) {
                problems.push_back({"layer " + id, "blob has " + std::to_string(blob->second) +
                                                       " bytes, the database records " +
                                                       std::to_string(layer_sizes[id])});
            }
        }
    }

    std::vector<std::string> ids;
    {
        detail::sqlite_statement rows(db, "SELECT id FROM images ORDER BY id");
        while (rows.step())
            ids.push_back(rows.text(0));
    }
    for (const auto& id : ids) {
        const std::string subject = "image " + id;
        const image_record record = get(digest::parse(id));
        if (!blob_sizes.contains(id)) {
            problems.push_back({subject, "config blob is missing or corrupt"});
            continue;
        }
        image decoded;
        try {
            decoded = image_from_json(read_blob(record.id));
        } catch (const error& e) {
            problems.push_back({subject, std::string("config is invalid: ") + e.what()});
            continue;
        }
        const std::vector<digest> listed =
            decoded.rootfs ? decoded.rootfs->diff_ids : std::vector<digest>{};
        if (listed != record.diff_ids) {
            problems.push_back({subject, "layers recorded in the database (" +
                                             std::to_string(record.diff_ids.size()) +
                                             ") differ from the config's diff IDs (" +
                                             std::to_string(listed.size()) + ")"});
        }
        for (const auto& diff_id : record.diff_ids) {
            if (!layer_sizes.contains(diff_id.str())) {
                problems.push_back({subject, "layer " + diff_id.str() + " has no layer row"});
            }
        }
        if (record.parent) {
            detail::sqlite_statement parent(db, "SELECT 1 FROM images WHERE id = ?1");
            parent.bind(1, record.parent->str());
            if (!parent.step()) {
                problems.push_back({subject, "parent " + record.parent->str() + " is missing"});
            }
        }
    }
    {
        detail::sqlite_statement rows(
            db, "SELECT name, image_id FROM refs WHERE image_id NOT IN (SELECT id FROM images)");
        while (rows.step()) {
            problems.push_back(
                {"reference " + rows.text(0), "names the missing image " + rows.text(1)});
        }
    }
    detail::verify_repo_digests(db, problems);
    {
        detail::sqlite_statement rows(db, "SELECT chain_id FROM snapshots");
        while (rows.step()) {
            const digest chain = digest::parse(rows.text(0));
            if (!fs::is_directory(root_ / "snapshots" / std::string(chain.hex()), failure)) {
                problems.push_back({"snapshot " + chain.str(), "directory is missing"});
            }
        }
    }
    return problems;
}

fs::path store::unpack(const digest& id) {
    const image_record record = get(id);
    if (record.diff_ids.empty()) throw store_error(id.str(), "image has no layers to unpack");
    const digest chain = chain_id(record.diff_ids);
    const fs::path target = root_ / "snapshots" / std::string(chain.hex());
    auto& db = db_->connection;
    {
        detail::sqlite_statement row(db, "SELECT 1 FROM snapshots WHERE chain_id = ?1");
        row.bind(1, chain.str());
        std::error_code ignored;
        if (row.step() && fs::is_directory(target, ignored)) return target;
    }
    const auto lock = lock_for_writing();
    const fs::path work = make_temp_dir("snapshot-");
    const fs::path rootfs = work / "rootfs";
    try {
        fs::create_directory(rootfs);
        for (const auto& diff_id : record.diff_ids) {
            layer::apply_layer(blob_path(diff_id), rootfs);
        }
        // A snapshot directory appears only by a rename after its last layer, so one that a
        // concurrent or killed process left behind is complete and is kept.
        std::error_code failure;
        fs::rename(rootfs, target, failure);
        if (failure && !fs::is_directory(target)) {
            throw store_error(target.string(),
                              "cannot move the snapshot into place: " + failure.message());
        }
        detail::fsync_directory(target.parent_path());
    } catch (...) {
        detail::remove_tree(work);
        throw;
    }
    detail::remove_tree(work);
    detail::sqlite_transaction transaction(db);
    detail::sqlite_statement insert(
        db,
        "INSERT OR REPLACE INTO snapshots(chain_id, parent, top_diff_id, created) "
        "VALUES(?1, ?2, ?3, ?4)");
    insert.bind(1, chain.str());
    std::optional<std::string> parent;
    if (record.diff_ids.size() > 1) {
        parent = chain_id(std::span(record.diff_ids).first(record.diff_ids.size() - 1)).str();
    }
    insert.bind_optional(2, parent).bind(3, record.diff_ids.back().str());
    insert.bind(4, timestamp::now().str());
    insert.run();
    transaction.commit();
    return target;
}

}  // namespace dockwright
