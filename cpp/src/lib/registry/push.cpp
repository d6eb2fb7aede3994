// Push: blob existence checks, cross-repository mounts, monolithic and chunked uploads, then
// the manifests.
#include <algorithm>
#include <cstring>
#include <set>

#include "dockwright/registry/client.hpp"
#include "dockwright/registry/registry_error.hpp"
#include "session.hpp"

namespace dockwright::registry {

namespace {

constexpr std::size_t read_buffer_size = 1 << 20;

std::string read_all(blob_reader& reader, const descriptor& d) {
    std::string bytes;
    std::vector<std::byte> buffer(64 * 1024);
    while (const std::size_t n = reader.read(buffer)) {
        bytes.append(reinterpret_cast<const char*>(buffer.data()), n);
        if (bytes.size() > static_cast<std::size_t>(d.size)) break;
    }
    hasher h(d.digest.algorithm());
    h.update(bytes);
    if (static_cast<std::int64_t>(bytes.size()) != d.size || h.finish() != d.digest) {
        throw registry_error(d.digest.str(), "the source's manifest does not match its digest");
    }
    return bytes;
}

std::string with_query(const std::string& url, const std::string& parameter) {
    return url + (url.find('?') == std::string::npos ? '?' : '&') + parameter;
}

/// State of one blob upload that the HTTP body reader advances.
struct upload_stream {
    blob_reader* reader = nullptr;
    const descriptor* blob = nullptr;
    std::uint64_t sent = 0;
    std::vector<std::byte> buffer;
    std::size_t buffer_offset = 0;
    std::size_t buffer_length = 0;

    /// Copies up to `limit` more bytes into `out`; throws when the source ends early.
    std::size_t fill(std::span<char> out, std::uint64_t limit) {
        if (buffer_offset == buffer_length) {
            buffer_offset = 0;
            buffer_length = reader->read(buffer);
            if (buffer_length == 0 && sent < static_cast<std::uint64_t>(blob->size)) {
                throw registry_error(blob->digest.str(), "the source blob ended after " +
                                                             std::to_string(sent) + " of " +
                                                             std::to_string(blob->size) + " bytes");
            }
        }
        const std::size_t n = static_cast<std::size_t>(
            std::min<std::uint64_t>({out.size(), buffer_length - buffer_offset, limit}));
        if (n != 0) std::memcpy(out.data(), buffer.data() + buffer_offset, n);
        buffer_offset += n;
        sent += n;
        return n;
    }
};

}  // namespace

push_result registry_client::push(image_source& source, const reference& ref,
                                  const push_options& options) {
    impl& self = *impl_;
    registry_session& s = self.session(ref.domain());
    http_client client = self.make_client(s);
    const std::string repository = ref.path();
    std::string scope = "repository:" + repository + ":pull,push";
    for (const std::string& from : options.mount_from)
        scope += " repository:" + from + ":pull";

    push_result result{.digest = digest::sha256_of(""),
                       .bytes_uploaded = 0,
                       .blobs_skipped = 0,
                       .blobs_mounted = 0};
    std::atomic<std::uint64_t> uploaded{0};
    std::atomic<std::size_t> skipped{0};
    std::atomic<std::size_t> mounted{0};

    auto upload_blob = [&](http_client& c, const descriptor& blob) {
        progress_event event{.step = progress_event::phase::exists,
                             .blob = blob.digest,
                             .media_type = blob.media_type,
                             .done = static_cast<std::uint64_t>(blob.size),
                             .total = static_cast<std::uint64_t>(blob.size),
                             .attempt = 1,
                             .detail = {}};
        const std::string blob_url =
            s.base_url + "/v2/" + repository + "/blobs/" + blob.digest.str();
        bool present = false;
        self.with_retries(
            [&](int) {
                const http_response head = self.send(c, s, make_request("HEAD", blob_url), scope);
                if (head.status != 200 && head.status != 404) {
                    throw response_error(blob.digest.str(), head);
                }
                present = head.status == 200;
            },
            [](int, const std::string&) {});
        if (present) {
            ++skipped;
            self.report(event);
            return;
        }
        bool done = false;
        self.with_retries(
            [&](int attempt) {
                event.attempt = attempt;
                std::string location;
                // A mount is a POST naming the digest and another repository: 201 means the
                // blob is now linked here, 202 means the registry started a normal upload.
                for (const std::string& from : options.mount_from) {
                    if (from == repository) continue;
                    const http_response response = self.send(
                        c, s,
                        make_request("POST",
                                     s.base_url + "/v2/" + repository +
                                         "/blobs/uploads/?mount=" + url_encode(blob.digest.str()) +
                                         "&from=" + url_encode(from)),
                        scope);
                    if (response.status == 201) {
                        ++mounted;
                        event.step = progress_event::phase::mounted;
                        self.report(event);
                        done = true;
                        return;
                    }
                    if (response.status != 202) throw response_error(blob.digest.str(), response);
                    location = response.header("Location").value_or("");
                    break;
                }
                if (location.empty()) {
                    const http_response response = self.send(
                        c, s,
                        make_request("POST", s.base_url + "/v2/" + repository + "/blobs/uploads/"),
                        scope);
                    if (response.status != 202) throw response_error(blob.digest.str(), response);
                    location = response.header("Location").value_or("");
                }
                if (location.empty()) {
                    throw registry_error(blob.digest.str(), "the upload response has no Location");
                }
                location = resolve_location(s, location);

                std::unique_ptr<blob_reader> reader = source.open(blob);
                upload_stream stream{.reader = reader.get(),
                                     .blob = &blob,
                                     .sent = 0,
                                     .buffer = std::vector<std::byte>(read_buffer_size),
                                     .buffer_offset = 0,
                                     .buffer_length = 0};
                const auto total = static_cast<std::uint64_t>(blob.size);
                std::uint64_t next_report = 0;
                auto body = [&](std::uint64_t end) {
                    return [&stream, &event, &next_report, &self, end](std::span<char> out) {
                        if (self.cancelled) throw registry_error(event.blob.str(), "cancelled");
                        if (stream.sent >= end) return std::size_t{0};
                        const std::size_t n = stream.fill(out, end - stream.sent);
                        if (stream.sent >= next_report) {
                            event.step = progress_event::phase::transferring;
                            event.done = stream.sent;
                            self.report(event);
                            next_report = stream.sent + (1 << 20);
                        }
                        return n;
                    };
                };
                const std::uint64_t chunk = self.options.chunk_size;
                if (chunk > 0 && total > chunk) {
                    // Chunked upload: PATCH each range, following the Location of every response.
                    while (stream.sent < total) {
                        const std::uint64_t start = stream.sent;
                        const std::uint64_t end = std::min(total, start + chunk);
                        http_request request = make_request("PATCH", location);
                        request.headers.emplace_back("Content-Type", "application/octet-stream");
                        request.headers.emplace_back(
                            "Content-Range", std::to_string(start) + "-" + std::to_string(end - 1));
                        request.body_reader = body(end);
                        request.body_size = end - start;
                        const http_response response = self.send(c, s, std::move(request), scope);
                        if (response.status != 202) {
                            throw response_error(blob.digest.str(), response);
                        }
                        if (const auto next = response.header("Location")) {
                            location = resolve_location(s, *next);
                        }
                    }
                    const http_response response = self.send(
                        c, s,
                        make_request(
                            "PUT", with_query(location, "digest=" + url_encode(blob.digest.str()))),
                        scope);
                    if (response.status != 201) throw response_error(blob.digest.str(), response);
                } else {
                    http_request request = make_request(
                        "PUT", with_query(location, "digest=" + url_encode(blob.digest.str())));
                    request.headers.emplace_back("Content-Type", "application/octet-stream");
                    request.body_reader = body(total);
                    request.body_size = total;
                    const http_response response = self.send(c, s, std::move(request), scope);
                    if (response.status != 201) throw response_error(blob.digest.str(), response);
                }
                uploaded += total;
                done = true;
            },
            [&](int attempt, const std::string& why) {
                event.step = progress_event::phase::retrying;
                event.attempt = attempt;
                event.detail = why;
                self.report(event);
            });
        if (done && event.step != progress_event::phase::mounted) {
            event.step = progress_event::phase::done;
            event.done = event.total;
            self.report(event);
        }
    };

    auto put_manifest = [&](const manifest_document& document, const std::string& target) {
        const digest expected = digest::sha256_of(document.bytes);
        self.with_retries(
            [&](int) {
                http_request request =
                    make_request("PUT", s.base_url + "/v2/" + repository + "/manifests/" + target);
                request.headers.emplace_back("Content-Type", document.media_type);
                request.body = document.bytes;
                const http_response response = self.send(client, s, std::move(request), scope);
                if (response.status != 201 && response.status != 200) {
                    throw response_error(ref.str(), response);
                }
                const auto header = response.header("Docker-Content-Digest");
                if (header && *header != expected.str()) {
                    throw registry_error(ref.str(), "the registry stored the manifest as " +
                                                        *header + ", expected " + expected.str());
                }
            },
            [](int, const std::string&) {});
    };

    auto push_image = [&](const manifest_document& document) {
        const image_manifest manifest = parse_image_manifest(document.bytes, document.media_type);
        std::vector<descriptor> blobs;
        std::set<digest> seen;
        for (const descriptor& layer : manifest.layers) {
            if (seen.insert(layer.digest).second) blobs.push_back(layer);
        }
        if (seen.insert(manifest.config.digest).second) blobs.push_back(manifest.config);
        self.for_each_parallel(s, blobs, upload_blob);
    };

    const manifest_document root = source.root();
    const digest root_digest = digest::sha256_of(root.bytes);
    if (ref.digest() && *ref.digest() != root_digest) {
        throw registry_error(ref.str(), "the image's manifest digest is " + root_digest.str());
    }
    if (is_index_media_type(root.media_type)) {
        const image_index index = parse_image_index(root.bytes, root.media_type);
        for (const descriptor& entry : index.manifests) {
            if (!is_manifest_media_type(entry.media_type)) {
                throw registry_error(ref.str(), "nested index entries of type '" +
                                                    entry.media_type + "' cannot be pushed");
            }
            std::unique_ptr<blob_reader> reader = source.open(entry);
            const manifest_document child{.media_type = entry.media_type,
                                          .bytes = read_all(*reader, entry)};
            push_image(child);
            put_manifest(child, entry.digest.str());
        }
    } else if (is_manifest_media_type(root.media_type)) {
        push_image(root);
    } else {
        throw registry_error(ref.str(), "unsupported manifest type '" + root.media_type + "'");
    }
    put_manifest(root, ref.tag() ? *ref.tag() : root_digest.str());

    result.digest = root_digest;
    result.bytes_uploaded = uploaded;
    result.blobs_skipped = skipped;
    result.blobs_mounted = mounted;
    return result;
}

}  // namespace dockwright::registry
