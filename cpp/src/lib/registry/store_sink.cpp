// store_sink: layers decompressed into the store while they download.
#include "dockwright/registry/store_sink.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <filesystem>

#include "dockwright/image/image.hpp"
#include "dockwright/registry/registry_error.hpp"
#include "stream_decompressor.hpp"

namespace dockwright::registry {

namespace fs = std::filesystem;

namespace {

/// Fsyncs a directory so that a rename into it survives a crash.
void fsync_directory(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

/// A new file under the store's tmp/, removed on destruction unless moved into place.
class temp_file {
  public:
    explicit temp_file(const store& target) {
        static std::atomic<unsigned> counter{0};
        const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
        path_ = target.root() / "tmp" /
                ("pull-" + std::to_string(::getpid()) + "-" + std::to_string(now) + "-" +
                 std::to_string(counter++));
        fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd_ < 0) {
            throw store_error(path_.string(),
                              std::string("cannot create: ") + std::strerror(errno));
        }
    }
    temp_file(const temp_file&) = delete;
    temp_file& operator=(const temp_file&) = delete;
    ~temp_file() {
        if (fd_ >= 0) ::close(fd_);
        if (!path_.empty()) ::unlink(path_.c_str());
    }

    [[nodiscard]] int fd() const noexcept { return fd_; }
    [[nodiscard]] const fs::path& path() const noexcept { return path_; }

    /// Fsyncs and closes the file, then renames it to `target`.
    void move_to(const fs::path& target) {
        if (::fsync(fd_) != 0) {
            throw store_error(path_.string(), std::string("fsync failed: ") + std::strerror(errno));
        }
        ::close(fd_);
        fd_ = -1;
        if (::rename(path_.c_str(), target.c_str()) != 0) {
            throw store_error(target.string(), std::string("cannot move the blob into place: ") +
                                                   std::strerror(errno));
        }
        path_.clear();
        fsync_directory(target.parent_path());
    }

  private:
    fs::path path_;
    int fd_ = -1;
};

}  // namespace

/// A layer on its way in: decompressor, diff ID digest and temporary file.
class store_sink::layer_blob final : public incoming_blob {
  public:
    layer_blob(store_sink& owner, descriptor blob, digest diff_id)
        : owner_(owner), blob_(std::move(blob)), diff_id_(std::move(diff_id)) {
        reset();
    }

    void write(std::span<const std::byte> bytes) override {
        if (failure_) return;
        try {
            decompressor_->write(bytes);
        } catch (const registry_error&) {
            // Damaged bytes usually break the compressed stream too. The error is kept for
            // commit() so that the puller first reports what its digest check finds.
            failure_ = std::current_exception();
        }
    }

    void restart() override { reset(); }

    void commit() override {
        const std::string subject = blob_.digest.str();
        if (failure_) std::rethrow_exception(failure_);
        decompressor_->finish();
        const digest actual = *digesting_->result();
        if (actual != diff_id_) {
            throw registry_error(subject, "the uncompressed layer has digest " + actual.str() +
                                              ", the config lists diff ID " + diff_id_.str());
        }
        try {
            // The same checks load_archive() applies: no absolute names, no `..`, no entry
            // below a symlink of the layer, hard links only to earlier entries.
            (void)list_layer(file_->path());
        } catch (const store_error& e) {
            throw registry_error(subject, e.reason());
        }
        file_->move_to(owner_.target_.blob_path(diff_id_));
        layer_record record{diff_id_, digesting_->size(), std::nullopt, 0};
        if (decompressor_->compressed()) {
            record.compressed_digest = blob_.digest;
            record.compressed_size = static_cast<std::uint64_t>(blob_.size);
        }
        std::lock_guard lock(owner_.mutex_);
        owner_.received_.insert_or_assign(blob_.digest, record);
    }

  private:
    void reset() {
        failure_ = nullptr;
        decompressor_.reset();
        digesting_.reset();
        file_sink_.reset();
        file_.reset();
        file_ = std::make_unique<temp_file>(owner_.target_);
        file_sink_ = std::make_unique<layer::fd_sink>(file_->fd());
        digesting_ = std::make_unique<layer::digesting_sink>(*file_sink_);
        decompressor_ = std::make_unique<stream_decompressor>(*digesting_, blob_.digest.str());
    }

    store_sink& owner_;
    descriptor blob_;
    digest diff_id_;
    std::unique_ptr<temp_file> file_;
    std::unique_ptr<layer::fd_sink> file_sink_;
    std::unique_ptr<layer::digesting_sink> digesting_;
    std::unique_ptr<stream_decompressor> decompressor_;
    std::exception_ptr failure_;
};

/// A config or other small blob, kept in memory and written with store::write_blob().
class store_sink::config_blob final : public incoming_blob {
  public:
    config_blob(store_sink& owner, descriptor blob) : owner_(owner), blob_(std::move(blob)) {}

    void write(std::span<const std::byte> bytes) override {
        bytes_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    void restart() override { bytes_.clear(); }
    void commit() override {
        const digest written = owner_.target_.write_blob(bytes_);
        if (written != blob_.digest) {
            throw registry_error(blob_.digest.str(),
                                 "the store computed digest " + written.str() + " for the blob");
        }
    }

  private:
    store_sink& owner_;
    descriptor blob_;
    std::string bytes_;
};

store_sink::store_sink(store& target) : target_(target), lock_(target.lock_for_writing()) {}

void store_sink::begin_image(const pulled_image& image) {
    const std::string subject = image.reference.str();
    dockwright::image config;
    try {
        config = image_from_json(image.config_bytes);
    } catch (const error& e) {
        throw registry_error(subject, std::string("the image config is invalid: ") + e.what());
    }
    const std::vector<digest> diff_ids =
        config.rootfs ? config.rootfs->diff_ids : std::vector<digest>{};
    const auto& layers = image.manifest.layers;
    if (diff_ids.size() != layers.size()) {
        throw registry_error(subject, "the manifest lists " + std::to_string(layers.size()) +
                                          " layers, the config " + std::to_string(diff_ids.size()) +
                                          " diff IDs");
    }
    std::lock_guard lock(mutex_);
    expected_diff_ids_.clear();
    received_.clear();
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const auto [it, added] = expected_diff_ids_.emplace(layers[i].digest, diff_ids[i]);
        if (!added && it->second != diff_ids[i]) {
            throw registry_error(subject, "the layer " + layers[i].digest.str() +
                                              " appears twice with different diff IDs");
        }
    }
}

bool store_sink::has_blob(const descriptor& blob) {
    std::lock_guard lock(mutex_);
    if (const auto it = expected_diff_ids_.find(blob.digest); it != expected_diff_ids_.end()) {
        return target_.has_blob(it->second);
    }
    return target_.has_blob(blob.digest);
}

std::unique_ptr<incoming_blob> store_sink::open_blob(const descriptor& blob) {
    std::optional<digest> diff_id;
    {
        std::lock_guard lock(mutex_);
        if (const auto it = expected_diff_ids_.find(blob.digest); it != expected_diff_ids_.end()) {
            diff_id = it->second;
        }
    }
    if (diff_id) return std::make_unique<layer_blob>(*this, blob, *diff_id);
    return std::make_unique<config_blob>(*this, blob);
}

void store_sink::commit_image(const pulled_image& image) {
    image_commit request;
    request.config = image.config_bytes;
    {
        std::lock_guard lock(mutex_);
        for (const descriptor& layer : image.manifest.layers) {
            const digest& diff_id = expected_diff_ids_.at(layer.digest);
            if (const auto it = received_.find(layer.digest); it != received_.end()) {
                request.layers.push_back(it->second);
                continue;
            }
            // Skipped because the store has the diff ID: describe it from the blob on disk.
            std::error_code failure;
            const auto size = fs::file_size(target_.blob_path(diff_id), failure);
            if (failure) {
                throw registry_error(image.reference.str(),
                                     "the layer " + diff_id.str() + " vanished from the store");
            }
            layer_record record{diff_id, size, std::nullopt, 0};
            if (layer.digest != diff_id) {
                record.compressed_digest = layer.digest;
                record.compressed_size = static_cast<std::uint64_t>(layer.size);
            }
            request.layers.push_back(record);
        }
    }
    // The repository digest is the digest the registry served for the requested reference:
    // for a multi-platform index the index's digest, not the selected manifest's. Docker
    // records it the same way; a moby maintainer states that `docker images --digests` shows
    // the index digest after a pull that resolved an index
    // (https://github.com/moby/moby/issues/44144).
    // A pull by digest moves that digest reference to this image and records no tag. A pull
    // by tag keeps an existing repository digest where it is, as Docker's pull does
    // (addDigestReference), so an index pulled once per platform keeps naming the image of
    // the first pull.
    const digest served = image.index_digest.value_or(image.manifest_digest);
    if (image.reference.digest()) {
        request.references.push_back(image.reference.with_digest(served));
    } else {
        if (const auto& tag = image.reference.tag()) {
            request.references.push_back(image.reference.with_tag(*tag));
        }
        request.repo_digests.push_back(image.reference.with_digest(served));
    }
    const commit_result committed = target_.commit_image(request);
    loaded_ = loaded_image{committed.id, request.references, committed.moved_references};
}

}  // namespace dockwright::registry
