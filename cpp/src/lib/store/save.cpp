// save_archive(): the docker-archive layout of docker save (Docker 20.10) and OCI layouts.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <tuple>

#include "../core/file_copy.hpp"
#include "../core/unique_fd.hpp"
#include "dockwright/core/json.hpp"
#include "dockwright/image/oci.hpp"
#include "dockwright/layer/byte_sink.hpp"
#include "dockwright/layer/compression.hpp"
#include "dockwright/layer/tar_writer.hpp"
#include "dockwright/store/archive.hpp"
#include "files.hpp"

namespace dockwright {

namespace fs = std::filesystem;

namespace {

/// An image to save with the references (familiar form) to record for it.
struct selected_image {
    image_record record;
    std::vector<reference> references;
};

std::vector<selected_image> select_images(const store& source, std::span<const std::string> names) {
    std::vector<selected_image> selected;
    auto add = [&](const image_record& record, std::optional<reference> name) {
        auto found = std::find_if(selected.begin(), selected.end(),
                                  [&](const auto& s) { return s.record.id == record.id; });
        if (found == selected.end()) {
            selected.push_back(selected_image{record, {}});
            found = selected.end() - 1;
        }
        if (name && std::find(found->references.begin(), found->references.end(), *name) ==
                        found->references.end()) {
            found->references.push_back(*name);
        }
    };
    for (const auto& text : names) {
        std::optional<reference> parsed;
        try {
            parsed = reference::parse(text);
        } catch (const invalid_value_error&) {
        }
        if (parsed && !parsed->tag() && !parsed->digest()) {
            // A bare repository name selects every tag of it, as docker save does.
            const auto tags = source.repository_tags(parsed->name());
            for (const auto& [tag, id] : tags)
                add(source.get(id), tag);
            if (!tags.empty()) continue;
        }
        const image_record record = source.resolve(text);
        const bool by_reference =
            parsed && std::find(record.references.begin(), record.references.end(),
                                reference::parse_tagged(text).str()) != record.references.end();
        add(record, by_reference && !parsed->digest() ? std::optional(reference::parse_tagged(text))
                                                      : std::nullopt);
    }
    return selected;
}

/// Rounds a config time to whole seconds as Go's tar writer does for headers.
std::int64_t header_seconds(const timestamp& created) {
    std::int64_t seconds = created.unix_seconds();
    if (created.nanoseconds() >= 500'000'000) ++seconds;
    return seconds;
}

/// The destination of the archive: a temporary file renamed into place, or standard output.
class output_file {
  public:
    explicit output_file(const fs::path& path) : path_(path) {
        if (path == "-") {
            fd_ = STDOUT_FILENO;
            return;
        }
        temp_ = path.string() + detail::unique_name(".tmp-");
        fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd_ < 0)
            throw store_error(path.string(), std::string("cannot create: ") + std::strerror(errno));
    }
    output_file(const output_file&) = delete;
    output_file& operator=(const output_file&) = delete;
    ~output_file() {
        if (!temp_.empty() && fd_ >= 0) {
            ::close(fd_);
            ::unlink(temp_.c_str());
        }
    }
    [[nodiscard]] int fd() const noexcept { return fd_; }
    void commit() {
        if (temp_.empty()) return;
        if (::fsync(fd_) != 0 || ::close(fd_) != 0) {
            fd_ = -1;
            ::unlink(temp_.c_str());
            throw store_error(path_.string(), std::string("write failed: ") + std::strerror(errno));
        }
        fd_ = -1;
        if (::rename(temp_.c_str(), path_.c_str()) != 0) {
            ::unlink(temp_.c_str());
            throw store_error(path_.string(),
                              std::string("cannot rename into place: ") + std::strerror(errno));
        }
    }

  private:
    fs::path path_;
    fs::path temp_;
    int fd_ = -1;
};

/// Passes bytes on to `next` and reports the running count to a save_progress callback.
class progress_counter final : public layer::byte_sink {
  public:
    progress_counter(layer::byte_sink& next, const save_progress& progress, std::uint64_t total)
        : next_(next), progress_(progress), total_(total) {
        if (progress_) progress_(0, total_);
    }

    void write(std::span<const std::byte> bytes) override {
        next_.write(bytes);
        add(bytes.size());
    }
    using layer::byte_sink::write;
    void finish() override { next_.finish(); }

    void add(std::uint64_t count) {
        written_ += count;
        if (progress_) progress_(written_, total_);
    }

  private:
    layer::byte_sink& next_;
    const save_progress& progress_;
    std::uint64_t total_;
    std::uint64_t written_ = 0;
};

/// Returns the bytes `entry` takes in a tar: its header blocks, PAX records included, and its
/// data padded to whole 512-byte blocks.
std::uint64_t tar_entry_size(const layer::tar_entry& entry) {
    layer::string_sink header;
    layer::tar_writer measure(header);
    measure.write_header(entry);
    const auto data = static_cast<std::uint64_t>(entry.size);
    return header.data().size() + (data + 511) / 512 * 512;
}

/// The entries of an archive, owned by root as in docker save's archive. The plan is measured
/// before anything is written, so that progress reports carry the archive's size from the
/// first byte on.
class archive_plan {
  public:
    void directory(const std::string& name, std::int64_t mtime) {
        add({entry(name + "/", layer::entry_type::directory, 040755, 0, mtime), {}, {}});
    }
    /// Adds a file holding `bytes`, which must stay valid until write() returns.
    void file(const std::string& name, std::string_view bytes, std::int64_t mtime) {
        add({entry(name, layer::entry_type::regular, 0100644,
                   static_cast<std::int64_t>(bytes.size()), mtime),
             bytes,
             {}});
    }
    void symlink(const std::string& name, const std::string& target, std::int64_t mtime) {
        auto header = entry(name, layer::entry_type::symlink, 0120777, 0, mtime);
        header.linkname = target;
        add({header, {}, {}});
    }
    /// Adds a file with the contents of `source`, whose size is read now.
    void file_from(const std::string& name, const fs::path& source, std::int64_t mtime) {
        struct stat info {};
        if (::stat(source.c_str(), &info) != 0) {
            throw store_error(source.string(), std::string("cannot stat: ") + std::strerror(errno));
        }
        add({entry(name, layer::entry_type::regular, 0100644, info.st_size, mtime), {}, source});
    }

    /// The size of the archive in bytes, the end-of-archive marker included.
    [[nodiscard]] std::uint64_t size() const noexcept { return size_; }

    void write(int fd, const save_progress& progress) const {
        layer::fd_sink file(fd);
        progress_counter counted(file, progress, size_);
        layer::tar_writer tar(counted);
        std::vector<std::byte> buffer;
        for (const planned_entry& planned : entries_) {
            tar.write_header(planned.header);
            if (!planned.source.empty()) {
                if (buffer.empty()) buffer.resize(1 << 20);
                copy_data(tar, planned, buffer);
            } else if (!planned.bytes.empty()) {
                tar.write_data(std::as_bytes(std::span(planned.bytes)));
            }
        }
        tar.close();
    }

  private:
    /// One entry and where its data comes from: `bytes` in memory or the file `source`.
    struct planned_entry {
        layer::tar_entry header;
        std::string_view bytes;
        fs::path source;
    };

    static layer::tar_entry entry(const std::string& name, layer::entry_type type,
                                  std::uint32_t mode, std::int64_t size, std::int64_t mtime) {
        layer::tar_entry header;
        header.name = name;
        header.type = type;
        header.mode = mode;
        header.uname = "root";
        header.gname = "root";
        header.size = size;
        header.mtime = mtime;
        return header;
    }

    void add(planned_entry planned) {
        size_ += tar_entry_size(planned.header);
        entries_.push_back(std::move(planned));
    }

    static void copy_data(layer::tar_writer& tar, const planned_entry& planned,
                          std::vector<std::byte>& buffer) {
        const fs::path& source = planned.source;
        const int fd = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            throw store_error(source.string(), std::string("cannot open: ") + std::strerror(errno));
        struct closer {
            int fd;
            ~closer() { ::close(fd); }
        } close_fd{fd};
        std::int64_t left = planned.header.size;
        while (left > 0) {
            const ssize_t count = ::read(fd, buffer.data(), buffer.size());
            if (count < 0 && errno == EINTR) continue;
            if (count <= 0) throw store_error(source.string(), "read failed or file shrank");
            const auto used = std::min<std::int64_t>(count, left);
            tar.write_data(std::span(buffer).first(static_cast<std::size_t>(used)));
            left -= used;
        }
    }

    std::vector<planned_entry> entries_;
    std::uint64_t size_ = 1024;  // the two zero blocks that end an archive
};

std::string json_string(std::string_view text) {
    std::string out;
    json::append_string(out, text);
    return out;
}

/// Encodes the legacy `repositories` file: repository -> tag -> ID of the top layer folder.
std::string repositories_json(
    const std::map<std::string, std::map<std::string, std::string>>& repositories) {
    std::string text = "{";
    for (const auto& [name, tags] : repositories) {
        if (text.size() > 1) text += ",";
        text += json_string(name) + ":{";
        bool first = true;
        for (const auto& [tag, id] : tags) {
            text += (first ? "" : ",") + json_string(tag) + ":" + json_string(id);
            first = false;
        }
        text += "}";
    }
    // Docker writes the document with a trailing newline (json.Encoder).
    return text + "}\n";
}

void save_docker(const store& source, const std::vector<selected_image>& images, int fd,
                 const save_progress& progress) {
    struct pending_file {
        enum class kind { directory, bytes, blob, symlink } type;
        std::string data;
        fs::path path;
        std::int64_t mtime = 0;
    };
    std::map<std::string, pending_file> entries;
    std::map<std::string, std::string> layer_paths;  // diff ID -> first layer.tar written
    std::string manifest = "[";
    std::map<std::string, std::map<std::string, std::string>> repositories;
    for (const auto& selected : images) {
        const std::string config_bytes = source.config_bytes(selected.record.id);
        const image config = image_from_json(config_bytes);
        if (selected.record.diff_ids.empty()) {
            throw store_error(selected.record.id.str(), "empty export - not implemented");
        }
        const std::int64_t mtime = header_seconds(config.created);
        const auto ids = legacy_layer_ids(config);
        std::vector<std::string> layer_names;
        for (std::size_t i = 0; i < ids.size(); ++i) {
            const std::string folder(ids[i].hex());
            layer_names.push_back(folder + "/layer.tar");
            if (entries.contains(folder)) continue;
            v1_image legacy;
            if (i + 1 == ids.size())
                legacy = static_cast<const v1_image&>(config);
            else
                legacy.created = timestamp::from_unix(0);
            legacy.extra.clear();
            legacy.id = folder;
            if (i > 0) legacy.parent = std::string(ids[i - 1].hex());
            legacy.os = config.os;
            entries[folder] = {pending_file::kind::directory, {}, {}, mtime};
            entries[folder + "/VERSION"] = {pending_file::kind::bytes, "1.0", {}, mtime};
            entries[folder + "/json"] = {pending_file::kind::bytes, to_json(legacy), {}, mtime};
            const digest& diff_id = selected.record.diff_ids[i];
            if (const auto earlier = layer_paths.find(diff_id.str());
                earlier != layer_paths.end()) {
                entries[folder + "/layer.tar"] = {
                    pending_file::kind::symlink, "../" + earlier->second, {}, mtime};
            } else {
                entries[folder + "/layer.tar"] = {
                    pending_file::kind::blob, {}, source.blob_path(diff_id), mtime};
                layer_paths[diff_id.str()] = folder + "/layer.tar";
            }
        }
        const std::string config_name = std::string(selected.record.id.hex()) + ".json";
        entries[config_name] = {pending_file::kind::bytes, config_bytes, {}, mtime};
        if (manifest.size() > 1) manifest += ",";
        manifest += "{\"Config\":" + json_string(config_name) + ",\"RepoTags\":";
        if (selected.references.empty()) {
            manifest += "null";
        } else {
            manifest += "[";
            for (std::size_t r = 0; r < selected.references.size(); ++r) {
                if (r > 0) manifest += ",";
                manifest += json_string(selected.references[r].familiar());
                repositories[selected.references[r].familiar_name()]
                            [*selected.references[r].tag()] = std::string(ids.back().hex());
            }
            manifest += "]";
        }
        manifest += ",\"Layers\":[";
        for (std::size_t l = 0; l < layer_names.size(); ++l) {
            manifest += (l > 0 ? "," : "") + json_string(layer_names[l]);
        }
        manifest += "]}";
    }
    // Docker writes manifest.json with a trailing newline (json.Encoder).
    manifest += "]\n";
    entries["manifest.json"] = {pending_file::kind::bytes, manifest, {}, 0};
    if (!repositories.empty()) {
        entries["repositories"] = {
            pending_file::kind::bytes, repositories_json(repositories), {}, 0};
    }
    // The map's byte-wise order equals Go's filepath.Walk order for these names.
    archive_plan out;
    for (const auto& [name, pending] : entries) {
        switch (pending.type) {
            case pending_file::kind::directory:
                out.directory(name, pending.mtime);
                break;
            case pending_file::kind::bytes:
                out.file(name, pending.data, pending.mtime);
                break;
            case pending_file::kind::blob:
                out.file_from(name, pending.path, pending.mtime);
                break;
            case pending_file::kind::symlink:
                out.symlink(name, pending.data, pending.mtime);
                break;
        }
    }
    out.write(fd, progress);
}

/// The OCI documents of a set of images: blobs by digest and the index.
struct oci_layout {
    std::map<std::string, std::string> documents;  // digest -> bytes (configs, manifests)
    std::map<std::string, fs::path> layers;        // digest -> blob file
    std::string index;
};

/// Compresses the layer blob `diff_id` into a new file under `work`; returns its digest, size
/// and path.
std::tuple<digest, std::uint64_t, fs::path> compress_layer(const store& source,
                                                           const digest& diff_id,
                                                           layer::compression kind,
                                                           const fs::path& work) {
    const fs::path path = work / std::string(diff_id.hex());
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        throw store_error(path.string(), std::string("cannot create: ") + std::strerror(errno));
    }
    struct closer {
        int fd;
        ~closer() { ::close(fd); }
    } close_fd{fd};
    layer::fd_sink file(fd);
    layer::digesting_sink digesting(file);
    const auto compressor = layer::make_compressor({kind, 0, 0}, digesting);
    const int input = ::open(source.blob_path(diff_id).c_str(), O_RDONLY | O_CLOEXEC);
    if (input < 0) throw store_error(diff_id.str(), "layer blob is missing");
    struct closer close_input {
        input
    };
    std::vector<std::byte> buffer(1 << 20);
    for (;;) {
        const ssize_t count = ::read(input, buffer.data(), buffer.size());
        if (count < 0 && errno == EINTR) continue;
        if (count < 0) throw store_error(diff_id.str(), "cannot read the layer blob");
        if (count == 0) break;
        compressor->write(std::span(buffer).first(static_cast<std::size_t>(count)));
    }
    compressor->finish();
    return {*digesting.result(), digesting.size(), path};
}

/// Returns whether `config_bytes` sets a key of the OCI image config schema
/// (config-schema.json of the image-spec) to null, which that schema rejects. Docker writes
/// `"Entrypoint":null`, `"Volumes":null` and `"Labels":null`. BuildKit's configs contain only
/// `"OnBuild":null`, a key the schema does not define.
bool has_oci_schema_nulls(const std::string& config_bytes) {
    static constexpr std::string_view top_keys[] = {
        "created",    "author",      "architecture", "variant", "os",
        "os.version", "os.features", "config",       "rootfs",  "history"};
    static constexpr std::string_view config_keys[] = {
        "User",    "ExposedPorts", "Env",    "Entrypoint", "Cmd",
        "Volumes", "WorkingDir",   "Labels", "StopSignal", "ArgsEscaped"};
    const auto listed = [](std::span<const std::string_view> keys, const std::string& key) {
        return std::find(keys.begin(), keys.end(), key) != keys.end();
    };
    const json::value document = json::parse(config_bytes);
    for (const auto& [key, value] : document.members()) {
        if (!listed(top_keys, key)) continue;
        if (value.is_null()) return true;
        if (key != "config") continue;
        for (const auto& [config_key, config_value] : value.members()) {
            if (config_value.is_null() && listed(config_keys, config_key)) return true;
        }
    }
    return false;
}

/// Returns the config blob of an OCI save. A config the OCI schema accepts keeps its bytes and so
/// its digest, as BuildKit's OCI exporter writes its configs unchanged under the OCI media type
/// (exporter/containerimage/writer.go in moby/buildkit). Otherwise the config is re-encoded as
/// an OCI config, as skopeo does when it converts a Docker image to OCI (convertToManifestOCI1
/// in containers/image): fields OCI lacks are dropped and the digest changes.
std::string oci_config_bytes(const std::string& config_bytes, const image& config) {
    if (!has_oci_schema_nulls(config_bytes)) return config_bytes;
    return to_oci_json(config);
}

oci_layout build_oci(const store& source, const std::vector<selected_image>& images,
                     layer::compression kind, const fs::path& work) {
    const std::string media_type = kind == layer::compression::none
                                       ? "application/vnd.oci.image.layer.v1.tar"
                                       : "application/vnd.oci.image.layer.v1.tar+" +
                                             std::string(layer::compression_name(kind));
    oci_layout layout;
    std::string descriptors;
    for (const auto& selected : images) {
        const image config = image_from_json(source.config_bytes(selected.record.id));
        const std::string config_bytes =
            oci_config_bytes(source.config_bytes(selected.record.id), config);
        const digest config_digest = digest::sha256_of(config_bytes);
        layout.documents[config_digest.str()] = config_bytes;
        std::string manifest =
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
            "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":" +
            json_string(config_digest.str()) + ",\"size\":" + std::to_string(config_bytes.size()) +
            "},\"layers\":[";
        for (std::size_t i = 0; i < selected.record.diff_ids.size(); ++i) {
            const auto& diff_id = selected.record.diff_ids[i];
            digest blob = diff_id;
            std::uint64_t size = source.layer(diff_id).size;
            if (kind == layer::compression::none) {
                layout.layers[diff_id.str()] = source.blob_path(diff_id);
            } else {
                auto [compressed, compressed_size, path] =
                    compress_layer(source, diff_id, kind, work);
                blob = compressed;
                size = compressed_size;
                layout.layers[blob.str()] = path;
            }
            manifest += std::string(i > 0 ? "," : "") +
                        "{\"mediaType\":" + json_string(media_type) +
                        ",\"digest\":" + json_string(blob.str()) +
                        ",\"size\":" + std::to_string(size) + "}";
        }
        manifest += "]}";
        const digest manifest_digest = digest::sha256_of(manifest);
        layout.documents[manifest_digest.str()] = manifest;
        std::string platform = "{\"architecture\":" + json_string(config.architecture) +
                               ",\"os\":" + json_string(config.os);
        if (!config.variant.empty()) platform += ",\"variant\":" + json_string(config.variant);
        platform += "}";
        auto descriptor = [&](const std::optional<reference>& name) {
            std::string text =
                "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":" +
                json_string(manifest_digest.str()) + ",\"size\":" + std::to_string(manifest.size());
            if (name) {
                text +=
                    ",\"annotations\":{\"io.containerd.image.name\":" + json_string(name->str()) +
                    ",\"org.opencontainers.image.ref.name\":" + json_string(*name->tag()) + "}";
            }
            text += ",\"platform\":" + platform + "}";
            if (!descriptors.empty()) descriptors += ",";
            descriptors += text;
        };
        if (selected.references.empty()) descriptor(std::nullopt);
        for (const auto& name : selected.references)
            descriptor(name);
    }
    layout.index =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
        "\"manifests\":[" +
        descriptors + "]}";
    return layout;
}

constexpr std::string_view oci_layout_file = "{\"imageLayoutVersion\":\"1.0.0\"}";

void write_oci_tar(const oci_layout& layout, int fd, const save_progress& progress) {
    archive_plan out;
    out.directory("blobs", 0);
    out.directory("blobs/sha256", 0);
    std::map<std::string, const void*> order;
    for (const auto& [id, bytes] : layout.documents)
        order[id] = &bytes;
    for (const auto& [id, path] : layout.layers)
        order[id] = &path;
    for (const auto& [id, ignored] : order) {
        const std::string name = "blobs/sha256/" + std::string(digest::parse(id).hex());
        if (const auto doc = layout.documents.find(id); doc != layout.documents.end()) {
            out.file(name, doc->second, 0);
        } else {
            out.file_from(name, layout.layers.at(id), 0);
        }
    }
    out.file("index.json", layout.index, 0);
    out.file("oci-layout", oci_layout_file, 0);
    out.write(fd, progress);
}

void write_file(const fs::path& path, std::string_view bytes) {
    {
        output_file out(path);
        std::size_t done = 0;
        while (done < bytes.size()) {
            const ssize_t count = ::write(out.fd(), bytes.data() + done, bytes.size() - done);
            if (count < 0 && errno == EINTR) continue;
            if (count < 0)
                throw store_error(path.string(),
                                  std::string("write failed: ") + std::strerror(errno));
            done += static_cast<std::size_t>(count);
        }
        out.commit();
    }
}

/// Opens `path` with `flags`. Throws store_error naming the path when the open fails.
unique_fd open_file(const fs::path& path, int flags) {
    unique_fd fd(::open(path.c_str(), flags | O_CLOEXEC, 0644));
    if (!fd) throw store_error(path.string(), std::string("cannot open: ") + std::strerror(errno));
    return fd;
}

/// Copies the file `source` to the new file `target`, calling `copied` with each chunk's
/// size, so a large layer shows progress as it goes.
void copy_blob(const fs::path& source, const fs::path& target,
               const std::function<void(std::uint64_t)>& copied) {
    const unique_fd input = open_file(source, O_RDONLY);
    const unique_fd output = open_file(target, O_WRONLY | O_CREAT | O_EXCL);
    detail::file_copier copier;
    try {
        copier.copy_to_end(input.get(), output.get(), source, target, copied);
    } catch (const detail::file_copy_error& failure) {
        throw store_error(failure.path().string(), failure.reason());
    }
}

void write_oci_directory(const oci_layout& layout, const fs::path& directory,
                         const save_progress& progress) {
    fs::create_directories(directory / "blobs" / "sha256");
    const auto blob_path = [&](const std::string& id) {
        return directory / "blobs" / "sha256" / std::string(digest::parse(id).hex());
    };
    std::uint64_t total = oci_layout_file.size() + layout.index.size();
    for (const auto& [id, bytes] : layout.documents) {
        if (!fs::exists(blob_path(id))) total += bytes.size();
    }
    for (const auto& [id, source] : layout.layers) {
        if (!fs::exists(blob_path(id))) total += fs::file_size(source);
    }
    std::uint64_t written = 0;
    const auto add = [&](std::uint64_t count) {
        written += count;
        if (progress) progress(written, total);
    };
    if (progress) progress(0, total);

    for (const auto& [id, bytes] : layout.documents) {
        const fs::path path = blob_path(id);
        if (fs::exists(path)) continue;
        write_file(path, bytes);
        add(bytes.size());
    }
    for (const auto& [id, source] : layout.layers) {
        const fs::path path = blob_path(id);
        if (fs::exists(path)) continue;
        const fs::path temp = path.string() + detail::unique_name(".tmp-");
        try {
            copy_blob(source, temp, add);
        } catch (...) {
            std::error_code ignored;
            fs::remove(temp, ignored);
            throw;
        }
        fs::rename(temp, path);
    }
    write_file(directory / "oci-layout", oci_layout_file);
    add(oci_layout_file.size());
    // NOTE: an existing index.json is replaced, so images saved there before are dropped from
    // the index although their blobs stay.
    write_file(directory / "index.json", layout.index);
    add(layout.index.size());
}

}  // namespace

std::vector<digest> legacy_layer_ids(const image& config) {
    const auto diff_ids = config.rootfs ? config.rootfs->diff_ids : std::vector<digest>{};
    std::vector<digest> ids;
    const auto chains = chain_ids(diff_ids);
    for (std::size_t i = 0; i < diff_ids.size(); ++i) {
        v1_image legacy;
        if (i + 1 == diff_ids.size())
            legacy = static_cast<const v1_image&>(config);
        else
            legacy.created = timestamp::from_unix(0);
        legacy.extra.clear();
        legacy.id.clear();
        const std::string encoded = to_json(legacy);
        const json::value parsed = json::parse(encoded);
        std::map<std::string, std::string> members;
        for (const auto& [key, value] : parsed.members()) {
            members[key] = json::compact(
                std::string_view(encoded).substr(value.begin(), value.end() - value.begin()));
        }
        members["layer_id"] = json_string(chains[i].str());
        if (i > 0) members["parent"] = json_string(ids.back().str());
        std::string text = "{";
        for (const auto& [key, value] : members) {
            if (text.size() > 1) text += ",";
            text += json_string(key) + ":" + value;
        }
        text += "}";
        ids.push_back(digest::sha256_of(text));
    }
    return ids;
}

void save_archive(const store& source, std::span<const std::string> names, const fs::path& output,
                  archive_format format, layer::compression layer_compression,
                  const save_progress& progress) {
    if (names.empty()) throw store_error("save", "no image given");
    const auto images = select_images(source, names);
    if (format == archive_format::oci) {
        // Compressed layers wait in the store's tmp/ under the writer lock, so a concurrent
        // prune leaves them alone.
        const auto lock = source.lock_for_writing();
        const fs::path work = source.make_temp_dir("save-");
        struct cleanup {
            fs::path path;
            ~cleanup() { detail::remove_tree(path); }
        } remove_work{work};
        // NOTE: layers are compressed here, before the first progress call, so a compressed
        // save reports nothing while it compresses.
        const oci_layout layout = build_oci(source, images, layer_compression, work);
        std::error_code ignored;
        const std::string text = output.string();
        if (output != "-" && (fs::is_directory(output, ignored) || text.ends_with('/'))) {
            write_oci_directory(layout, output, progress);
            return;
        }
        output_file out(output);
        write_oci_tar(layout, out.fd(), progress);
        out.commit();
        return;
    }
    output_file out(output);
    save_docker(source, images, out.fd(), progress);
    out.commit();
}

}  // namespace dockwright
