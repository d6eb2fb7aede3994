// The embedded image store: content-addressable blobs plus an SQLite metadata database.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dockwright/core/digest.hpp"
#include "dockwright/image/image.hpp"
#include "dockwright/layer/byte_sink.hpp"
#include "dockwright/store/reference.hpp"
#include "dockwright/store/store_error.hpp"

namespace dockwright {

class store;

/// A layer the store holds: the blob is the uncompressed tar, stored under its diff ID. The
/// compressed digest and size are those of the compressed form it arrived in, when it did.
struct layer_record {
    digest diff_id;
    std::uint64_t size = 0;
    std::optional<digest> compressed_digest;
    std::uint64_t compressed_size = 0;
};

/// An image the store holds, with its references in full form (`docker.io/library/x:1`).
struct image_record {
    digest id;
    std::optional<digest> parent;
    /// The tags, sorted by their full text.
    std::vector<std::string> references;
    std::vector<digest> diff_ids;
    /// The config's `created` time as written in it (RFC 3339).
    std::string created;
    /// The sum of the uncompressed layer sizes in bytes.
    std::uint64_t size = 0;
    /// The repository digests (`docker.io/library/busybox@sha256:...`): the digest of the
    /// manifest or index a registry served when this image was pulled or pushed. Sorted by
    /// their full text, as Docker's reference store sorts them.
    std::vector<std::string> repo_digests{};
};

/// One inconsistency found by store::verify(): what it concerns and what is wrong.
struct verify_problem {
    std::string subject;
    std::string problem;
};

/// What store::prune() removed.
struct prune_report {
    std::vector<digest> images;
    std::uint64_t blobs = 0;
    std::uint64_t bytes = 0;
    std::uint64_t snapshots = 0;
    std::uint64_t temporary_files = 0;
};

/// When blob_writer::commit() makes the blob durable.
enum class blob_durability {
    immediate,  ///< commit() fsyncs the file and its directory before returning.
    /// commit() only renames the file into place. store::commit_images() fsyncs every blob
    /// its rows name before the rows become visible, so the caller must record the blob
    /// through it (or fsync it itself) before anything names the blob.
    deferred,
};

/// The party that computes a blob's digest.
enum class blob_hashing {
    /// The writer hashes the bytes and commit() compares the result with the expected digest.
    compute,
    /// The caller hashes the same bytes (a layer writer computing the diff ID), so the writer
    /// does not hash them twice. commit() must be given that digest and names the blob by it.
    supplied,
};

/// Writes one blob. The bytes go to a temporary file under the store's `tmp/` and are hashed
/// on the way, unless the caller supplies the digest. commit() checks the digest, fsyncs the
/// data unless the durability is deferred, and then moves the file to `blobs/sha256/<hex>`.
/// A writer destroyed without commit() removes its temporary file. Blobs larger than one buffer
/// bypass the page cache (O_DIRECT, where the file system allows it): a layer of a gigabyte then
/// costs no gigabyte of cache pages. Their full buffers are written by a thread of the writer, so
/// the disk works while the caller hashes.
class blob_writer final : public layer::byte_sink {
  public:
    explicit blob_writer(const store& owner,
                         blob_durability durability = blob_durability::immediate,
                         blob_hashing hashing = blob_hashing::compute);
    ~blob_writer() override;
    blob_writer(const blob_writer&) = delete;
    blob_writer& operator=(const blob_writer&) = delete;

    void write(std::span<const std::byte> bytes) override;
    using layer::byte_sink::write;

    /// Verifies the digest against `expected` (when given), fsyncs and renames the file into
    /// place. Throws store_error naming the expected digest on a mismatch. Returns the digest.
    /// With blob_hashing::supplied, `expected` is required and is the blob's name.
    digest commit(const std::optional<digest>& expected = std::nullopt);

    [[nodiscard]] std::uint64_t size() const noexcept { return size_; }

  private:
    // The byte_sink overload that fills a prepared buffer; this writer offers none. Declared
    // here so it is not hidden by commit() above and cannot be called by mistake.
    using layer::byte_sink::commit;

    struct aligned_free {
        void operator()(std::byte* memory) const noexcept;
    };
    using buffer_ptr = std::unique_ptr<std::byte[], aligned_free>;
    static buffer_ptr allocate_buffer();
    class background_writer;

    const store& owner_;
    std::filesystem::path temp_path_;
    int fd_ = -1;
    /// Whether fd_ was opened with O_DIRECT, which needs aligned buffers, offsets and sizes.
    bool direct_ = false;
    hasher hasher_;
    blob_hashing hashing_;
    std::uint64_t size_ = 0;
    /// One page-aligned buffer; full buffers go to the file, the tail at commit().
    buffer_ptr buffer_;
    std::size_t buffered_ = 0;
    /// Writes full buffers from the second one on; made when the first buffer fills.
    std::unique_ptr<background_writer> background_;
    blob_durability durability_;
    void open_file(bool direct);
    void flush_full_buffer();
};

/// A new image to record: its config bytes (stored as written, so the ID is their SHA-256),
/// its layers, whose blobs must already be in the store, and the references to point at it.
struct image_commit {
    std::string config;
    std::vector<layer_record> layers;
    std::optional<digest> parent;
    /// Tags, and digest references (`name@sha256:...`, recorded as repository digests without
    /// any tag). One that names another image is moved to this one.
    std::vector<reference> references;
    /// Repository digests (`name@sha256:...`) that are added only where the store has no such
    /// repository digest yet. Docker's engine records the digest of a pull by tag, and of a
    /// push, that way (addDigestReference), so the first image keeps it.
    std::vector<reference> repo_digests{};
};

/// What commit_image() did: the new image ID and, per reference, the image it was taken from.
struct commit_result {
    digest id;
    std::vector<std::pair<reference, digest>> moved_references;
};

/// The store at one root directory, laid out as
///   blobs/sha256/<hex>   configs and uncompressed layer tars, named by their digest
///   snapshots/<hex>      unpacked root filesystems, named by the chain ID of their layers
///   tmp/                 files being written; removed by prune
///   metadata.db          SQLite database in WAL mode
///   gc.lock              flock: writers hold it shared, garbage collection exclusively
/// Several processes may open the same root: database writes are transactions with a busy
/// timeout, and a database row is inserted only after the blobs it names are complete.
class store {
  public:
    /// Opens (creating when missing) the store at `root`. Throws store_error when the
    /// directory or database cannot be created or opened.
    explicit store(std::filesystem::path root);
    ~store();
    store(const store&) = delete;
    store& operator=(const store&) = delete;

    /// Returns $DOCKWRIGHT_ROOT, else /var/lib/dockwright for root, else
    /// $XDG_DATA_HOME/dockwright (with $HOME/.local/share when XDG_DATA_HOME is unset).
    [[nodiscard]] static std::filesystem::path default_root();

    [[nodiscard]] const std::filesystem::path& root() const noexcept { return root_; }
    [[nodiscard]] std::filesystem::path blob_path(const digest& id) const;
    [[nodiscard]] bool has_blob(const digest& id) const;
    /// Reads a whole blob into memory (configs and manifests; not meant for layers).
    [[nodiscard]] std::string read_blob(const digest& id) const;
    /// Stores `bytes` as a blob and returns its digest.
    digest write_blob(std::string_view bytes);
    /// Creates a new, empty directory under tmp/ for the caller to fill and remove.
    [[nodiscard]] std::filesystem::path make_temp_dir(std::string_view prefix) const;

    /// Holds the garbage-collection lock shared (while writing blobs that a row will name).
    class writer_lock;
    [[nodiscard]] writer_lock lock_for_writing() const;

    /// Records an image whose config and layer blobs are in the store, and points its
    /// references at it, in one transaction. Throws store_error when a blob is missing.
    commit_result commit_image(const image_commit& request);

    /// Records several images, parents first, and their references in one transaction. The
    /// config blobs are written without an fsync each. Then every config and layer blob
    /// the rows name is fsync'ed in one batch before the transaction, so blobs written with
    /// blob_durability::deferred are durable before a row names them. Returns one result
    /// per request. Throws store_error when a layer blob is missing.
    std::vector<commit_result> commit_images(std::span<const image_commit> requests);

    [[nodiscard]] std::vector<image_record> images() const;
    /// Finds an image by reference (`busybox`, `busybox:1`), full ID or unique ID prefix.
    /// Throws image_not_found_error.
    [[nodiscard]] image_record resolve(std::string_view text) const;
    [[nodiscard]] std::optional<image_record> find(std::string_view text) const;
    [[nodiscard]] image_record get(const digest& id) const;
    /// The config blob of an image, as stored.
    [[nodiscard]] std::string config_bytes(const digest& id) const;
    [[nodiscard]] dockwright::image config(const digest& id) const;
    [[nodiscard]] layer_record layer(const digest& diff_id) const;
    /// The images whose parent is `id`.
    [[nodiscard]] std::vector<digest> children(const digest& id) const;
    /// The references of a repository (`docker.io/library/busybox`), with their images.
    [[nodiscard]] std::vector<std::pair<reference, digest>> repository_tags(
        const std::string& name) const;

    /// Points `target` at the image. Returns the image it pointed to before, if any. Throws
    /// invalid_value_error when `target` has a digest.
    std::optional<digest> tag(const digest& id, const reference& target);

    /// Records the repository digest `target.name()@digest` for the image, unless the store
    /// has that repository digest already (for this or another image), as commit_image()
    /// treats image_commit::repo_digests. Returns whether it was added. Throws
    /// image_not_found_error for an unknown image and invalid_value_error when `target` has
    /// no digest.
    bool add_repo_digest(const digest& id, const reference& target);

    /// Removes a reference or an image as `docker rmi` does and returns the lines to print
    /// (`Untagged: busybox:latest`, `Deleted: sha256:...`). An image with children, or one
    /// given by ID that several references name, is rejected unless `force` is set. Removing
    /// the last tag of a repository also removes that repository's digests from the image,
    /// and the image is deleted once it has no tag and no repository digest left.
    std::vector<std::string> remove(std::string_view text, bool force);

    /// Removes dangling images (no tag, no repository digest and no children) when
    /// `dangling_images` is set, then every blob, layer row and snapshot no image uses and
    /// every leftover temporary file.
    prune_report prune(bool dangling_images = true);

    /// Recomputes the digest of every blob and checks every row against the blobs and the
    /// configs. Returns every problem found; an empty list means the store is consistent.
    [[nodiscard]] std::vector<verify_problem> verify() const;

    /// Returns the directory holding the image's root filesystem, unpacking its layers into
    /// snapshots/<chain ID> first when no snapshot exists. Throws store_error for an image
    /// without layers.
    std::filesystem::path unpack(const digest& id);

  private:
    friend class blob_writer;
    struct database;

    void collect_garbage(prune_report& report);
    /// Checks the layer blobs of a request and returns the sum of their sizes.
    std::uint64_t checked_layer_size(const image_commit& request) const;
    /// Inserts the rows of one image and its references; the caller holds a transaction.
    commit_result insert_image_rows(const image_commit& request, const digest& id,
                                    const std::string& created);
    std::filesystem::path root_;
    std::unique_ptr<database> db_;
};

/// A shared flock on gc.lock, released on destruction.
class store::writer_lock {
  public:
    explicit writer_lock(int fd) noexcept : fd_(fd) {}
    writer_lock(writer_lock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
    writer_lock& operator=(writer_lock&&) = delete;
    ~writer_lock();

  private:
    int fd_;
};

}  // namespace dockwright
