// OCI image layout directories as pull targets and push sources.
#include "dockwright/registry/oci_layout.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "dockwright/registry/registry_error.hpp"

namespace dockwright::registry {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

[[noreturn]] void fail(const fs::path& path, const std::string& what) {
    throw registry_error(path.string(), what + ": " + std::strerror(errno));
}

/// A file descriptor closed on destruction.
class unique_fd {
  public:
    explicit unique_fd(int fd) noexcept : fd_(fd) {}
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;
    ~unique_fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    [[nodiscard]] int get() const noexcept { return fd_; }
    int release() noexcept { return std::exchange(fd_, -1); }

  private:
    int fd_;
};

void write_all(int fd, const void* data, std::size_t size, const fs::path& path) {
    const auto* bytes = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t n = ::write(fd, bytes, size);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail(path, "cannot write");
        bytes += n;
        size -= static_cast<std::size_t>(n);
    }
}

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path, "cannot read");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// Writes `text` to `path` atomically: temporary file, fsync, rename.
void replace_file(const fs::path& path, std::string_view text) {
    const fs::path temp = path.string() + ".tmp-" + std::to_string(::getpid());
    {
        unique_fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (fd.get() < 0) fail(temp, "cannot create");
        write_all(fd.get(), text.data(), text.size(), temp);
        if (::fsync(fd.get()) != 0) fail(temp, "cannot sync");
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        ::unlink(temp.c_str());
        fail(path, "cannot replace");
    }
}

std::string temp_name() {
    static std::atomic<unsigned> counter{0};
    return ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

/// Writes a blob to a temporary file beside its final place and renames it on commit.
class layout_blob final : public incoming_blob {
  public:
    layout_blob(fs::path temp, fs::path target)
        : temp_(std::move(temp)), target_(std::move(target)) {
        fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd_ < 0) fail(temp_, "cannot create");
    }
    ~layout_blob() override {
        if (fd_ >= 0) ::close(fd_);
        if (!committed_) ::unlink(temp_.c_str());
    }

    void write(std::span<const std::byte> bytes) override {
        write_all(fd_, bytes.data(), bytes.size(), temp_);
    }
    void restart() override {
        if (::ftruncate(fd_, 0) != 0 || ::lseek(fd_, 0, SEEK_SET) != 0)
            fail(temp_, "cannot truncate");
    }
    void commit() override {
        if (::fsync(fd_) != 0) fail(temp_, "cannot sync");
        if (::close(std::exchange(fd_, -1)) != 0) fail(temp_, "cannot close");
        if (::rename(temp_.c_str(), target_.c_str()) != 0)
            fail(target_, "cannot rename into place");
        committed_ = true;
    }

  private:
    fs::path temp_;
    fs::path target_;
    int fd_ = -1;
    bool committed_ = false;
};

class file_reader final : public blob_reader {
  public:
    explicit file_reader(const fs::path& path)
        : path_(path), fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
        if (fd_.get() < 0) fail(path, "cannot open");
    }
    std::size_t read(std::span<std::byte> buffer) override {
        while (true) {
            const ssize_t n = ::read(fd_.get(), buffer.data(), buffer.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) fail(path_, "cannot read");
            return static_cast<std::size_t>(n);
        }
    }

  private:
    fs::path path_;
    unique_fd fd_;
};

json read_index(const fs::path& root) {
    const fs::path path = root / "index.json";
    const json index = json::parse(read_text(path), nullptr, false);
    if (index.is_discarded() || !index.is_object()) {
        throw registry_error(path.string(), "not a valid OCI index");
    }
    return index;
}

}  // namespace

fs::path oci_blob_path(const fs::path& root, const digest& blob) {
    return root / "blobs" / std::string(algorithm_name(blob.algorithm())) / std::string(blob.hex());
}

oci_layout_sink::oci_layout_sink(fs::path root, std::string ref_name)
    : root_(std::move(root)), ref_name_(std::move(ref_name)) {
    std::error_code ec;
    fs::create_directories(root_ / "blobs" / "sha256", ec);
    if (ec) throw registry_error(root_.string(), "cannot create the layout: " + ec.message());
    if (!fs::exists(root_ / "oci-layout")) {
        replace_file(root_ / "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
    }
    if (!fs::exists(root_ / "index.json")) {
        replace_file(
            root_ / "index.json",
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
            "\"manifests\":[]}");
    }
}

bool oci_layout_sink::has_blob(const descriptor& blob) {
    std::error_code ec;
    const auto size = fs::file_size(oci_blob_path(root_, blob.digest), ec);
    // NOTE: a present blob is trusted by name and size; its content is not re-hashed.
    return !ec && static_cast<std::int64_t>(size) == blob.size;
}

std::unique_ptr<incoming_blob> oci_layout_sink::open_blob(const descriptor& blob) {
    const fs::path target = oci_blob_path(root_, blob.digest);
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec) throw registry_error(target.parent_path().string(), "cannot create: " + ec.message());
    return std::make_unique<layout_blob>(target.parent_path() / temp_name(), target);
}

void oci_layout_sink::commit_image(const pulled_image& image) {
    descriptor manifest{.media_type = image.manifest.media_type,
                        .digest = image.manifest_digest,
                        .size = static_cast<std::int64_t>(image.manifest_bytes.size()),
                        .urls = {},
                        .annotations = {},
                        .platform = std::nullopt};
    if (!has_blob(manifest)) {
        std::unique_ptr<incoming_blob> out = open_blob(manifest);
        out->write(std::as_bytes(std::span(image.manifest_bytes)));
        out->commit();
    }
    const std::string name =
        !ref_name_.empty() ? ref_name_ : image.reference.tag().value_or(std::string());

    // The lock serializes index.json updates of concurrent pulls into the same layout.
    const fs::path lock_path = root_ / "index.json.lock";
    unique_fd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (lock.get() < 0) fail(lock_path, "cannot open");
    if (::flock(lock.get(), LOCK_EX) != 0) fail(lock_path, "cannot lock");

    json index = read_index(root_);
    json& entries = index["manifests"];
    if (!entries.is_array()) entries = json::array();
    json kept = json::array();
    for (const json& entry : entries) {
        const bool same_name =
            !name.empty() && entry.contains("annotations") &&
            entry["annotations"].value(std::string(ref_name_annotation), "") == name;
        const bool same_unnamed = name.empty() &&
                                  entry.value("digest", "") == image.manifest_digest.str() &&
                                  !entry.contains("annotations");
        if (!same_name && !same_unnamed) kept.push_back(entry);
    }
    json added = {{"mediaType", manifest.media_type},
                  {"digest", manifest.digest.str()},
                  {"size", manifest.size}};
    if (!name.empty()) added["annotations"] = {{std::string(ref_name_annotation), name}};
    kept.push_back(added);
    entries = kept;
    replace_file(root_ / "index.json", index.dump());
}

oci_layout_source::oci_layout_source(fs::path root, std::string ref_name)
    : root_(std::move(root)),
      entry_{.media_type = {},
             .digest = digest::sha256_of(""),
             .size = 0,
             .urls = {},
             .annotations = {},
             .platform = std::nullopt} {
    const json index = read_index(root_);
    const json entries = index.value("manifests", json::array());
    std::vector<json> matches;
    for (const json& entry : entries) {
        const std::string name =
            entry.contains("annotations") && entry["annotations"].is_object()
                ? entry["annotations"].value(std::string(ref_name_annotation), "")
                : "";
        if (ref_name.empty() || name == ref_name) matches.push_back(entry);
    }
    if (matches.empty()) {
        throw registry_error(root_.string(),
                             ref_name.empty()
                                 ? "the OCI layout holds no image"
                                 : "the OCI layout has no image named '" + ref_name + "'");
    }
    if (matches.size() > 1) {
        throw registry_error(
            root_.string(),
            "the OCI layout holds " + std::to_string(matches.size()) + " images; name one");
    }
    const json& entry = matches.front();
    try {
        entry_.media_type = entry.at("mediaType").get<std::string>();
        entry_.digest = digest::parse(entry.at("digest").get<std::string>());
        entry_.size = entry.at("size").get<std::int64_t>();
    } catch (const json::exception& e) {
        throw registry_error((root_ / "index.json").string(),
                             std::string("invalid manifest entry: ") + e.what());
    }
}

manifest_document oci_layout_source::root() {
    const fs::path path = oci_blob_path(root_, entry_.digest);
    std::string bytes = read_text(path);
    hasher h(entry_.digest.algorithm());
    h.update(bytes);
    if (h.finish() != entry_.digest) {
        throw registry_error(path.string(), "the manifest does not match its digest");
    }
    return manifest_document{.media_type = entry_.media_type, .bytes = std::move(bytes)};
}

std::unique_ptr<blob_reader> oci_layout_source::open(const descriptor& blob) {
    return std::make_unique<file_reader>(oci_blob_path(root_, blob.digest));
}

}  // namespace dockwright::registry
