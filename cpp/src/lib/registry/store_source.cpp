// store_source: the manifest of a stored image and readers over its blob files.
#include "dockwright/registry/store_source.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "dockwright/registry/registry_error.hpp"

namespace dockwright::registry {

namespace {

/// Reads a blob file of the store from its first byte.
class store_file_reader final : public blob_reader {
  public:
    store_file_reader(std::filesystem::path path, std::string subject)
        : path_(std::move(path)), subject_(std::move(subject)) {
        fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0) {
            throw store_error(subject_, "cannot open the layer blob " + path_.string() + ": " +
                                            std::strerror(errno));
        }
    }
    store_file_reader(const store_file_reader&) = delete;
    store_file_reader& operator=(const store_file_reader&) = delete;
    ~store_file_reader() override { ::close(fd_); }

    std::size_t read(std::span<std::byte> buffer) override {
        for (;;) {
            const ssize_t n = ::read(fd_, buffer.data(), buffer.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                throw store_error(subject_, "cannot read the layer blob " + path_.string() + ": " +
                                                std::strerror(errno));
            }
            return static_cast<std::size_t>(n);
        }
    }

  private:
    std::filesystem::path path_;
    std::string subject_;
    int fd_ = -1;
};

/// Returns the bytes of a string in pieces.
class string_reader final : public blob_reader {
  public:
    explicit string_reader(std::string bytes) : bytes_(std::move(bytes)) {}
    std::size_t read(std::span<std::byte> buffer) override {
        const std::size_t n = std::min(buffer.size(), bytes_.size() - offset_);
        std::memcpy(buffer.data(), bytes_.data() + offset_, n);
        offset_ += n;
        return n;
    }

  private:
    std::string bytes_;
    std::size_t offset_ = 0;
};

}  // namespace

store_source::store_source(const store& source, const digest& id) : source_(source), id_(id) {
    const image_record record = source.get(id);
    config_ = source.config_bytes(id);
    // The field order and spelling follow save_archive()'s OCI manifest, so a push from the
    // store and a push of a saved layout give one manifest digest whenever save_archive()
    // keeps the config bytes (configs without OCI schema nulls).
    manifest_ = "{\"schemaVersion\":2,\"mediaType\":\"" + std::string(media_type::oci_manifest) +
                "\",\"config\":{\"mediaType\":\"" + std::string(media_type::oci_config) +
                "\",\"digest\":\"" + id.str() + "\",\"size\":" + std::to_string(config_.size()) +
                "},\"layers\":[";
    for (std::size_t i = 0; i < record.diff_ids.size(); ++i) {
        const digest& diff_id = record.diff_ids[i];
        layers_.insert(diff_id);
        manifest_ += std::string(i > 0 ? "," : "") + "{\"mediaType\":\"" +
                     std::string(media_type::oci_layer) + "\",\"digest\":\"" + diff_id.str() +
                     "\",\"size\":" + std::to_string(source.layer(diff_id).size) + "}";
    }
    manifest_ += "]}";
}

manifest_document store_source::root() {
    return manifest_document{.media_type = std::string(media_type::oci_manifest),
                             .bytes = manifest_};
}

std::unique_ptr<blob_reader> store_source::open(const descriptor& blob) {
    if (blob.digest == id_) return std::make_unique<string_reader>(config_);
    if (!layers_.contains(blob.digest)) {
        throw registry_error(blob.digest.str(), "the image " + id_.str() + " has no such blob");
    }
    return std::make_unique<store_file_reader>(source_.blob_path(blob.digest), blob.digest.str());
}

push_result push_from_store(store& images, const digest& id, const reference& target,
                            registry_client& client, const push_options& options) {
    store_source source(images, id);
    const push_result result = client.push(source, target, options);
    images.add_repo_digest(id, target.with_digest(result.digest));
    return result;
}

}  // namespace dockwright::registry
