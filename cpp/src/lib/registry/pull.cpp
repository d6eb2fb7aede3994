// Pull: manifest resolution, platform selection, verified parallel blob downloads.
#include <strings.h>

#include <charconv>
#include <set>

#include "dockwright/registry/client.hpp"
#include "dockwright/registry/registry_error.hpp"
#include "session.hpp"

namespace dockwright::registry {

namespace {

/// Progress is reported at most once per this many bytes of one blob.
constexpr std::uint64_t progress_step = 1 << 20;

std::string list_platforms(const image_index& index) {
    std::string text;
    for (const descriptor& entry : index.manifests) {
        if (!entry.platform) continue;
        if (!text.empty()) text += ", ";
        text += entry.platform->str();
    }
    return text.empty() ? "none" : text;
}

void check_descriptor(const std::string& subject, const descriptor& d, std::string_view bytes) {
    if (static_cast<std::int64_t>(bytes.size()) != d.size) {
        throw registry_error(subject, "size mismatch for " + d.digest.str() + ": expected " +
                                          std::to_string(d.size) + " bytes, received " +
                                          std::to_string(bytes.size()));
    }
    hasher h(d.digest.algorithm());
    h.update(bytes);
    const digest actual = h.finish();
    if (actual != d.digest) {
        throw registry_error(subject, "digest mismatch: expected " + d.digest.str() +
                                          ", received content with digest " + actual.str());
    }
}

/// Returns the first byte position of a `Content-Range: bytes FIRST-LAST/SIZE` header, or
/// nothing when the header is missing or malformed.
std::optional<std::uint64_t> content_range_start(const std::vector<http_header>& headers) {
    for (const auto& [name, value] : headers) {
        if (name.size() != 13 || strncasecmp(name.c_str(), "Content-Range", 13) != 0) continue;
        if (!value.starts_with("bytes ")) return std::nullopt;
        std::uint64_t first = 0;
        const char* begin = value.data() + 6;
        const char* end = value.data() + value.size();
        const auto [next, failure] = std::from_chars(begin, end, first);
        if (failure != std::errc() || next == begin || next == end || *next != '-') {
            return std::nullopt;
        }
        return first;
    }
    return std::nullopt;
}

}  // namespace

pull_result registry_client::pull(const reference& ref, blob_sink& sink,
                                  const pull_options& options) {
    impl& self = *impl_;
    registry_session& s = self.session(ref.domain());
    http_client client = self.make_client(s);
    const std::string subject = ref.str();
    const std::string scope = "repository:" + ref.path() + ":pull";
    const std::string target = ref.digest() ? ref.digest()->str() : ref.tag().value_or("latest");

    pull_result result{.manifest_digest = digest::sha256_of(""),
                       .index_digest = std::nullopt,
                       .bytes_downloaded = 0,
                       .blobs_skipped = 0};
    manifest_document document =
        self.get_manifest(client, s, ref.path(), target, ref.digest(), subject);
    if (is_index_media_type(document.media_type)) {
        const image_index index = parse_image_index(document.bytes, document.media_type);
        const platform wanted = options.platform.value_or(platform::host());
        const std::optional<descriptor> chosen = select_platform(index, wanted);
        if (!chosen) {
            throw registry_error(subject, "no image for platform " + wanted.str() +
                                              " in the index (it has: " + list_platforms(index) +
                                              ")");
        }
        hasher h;
        h.update(document.bytes);
        result.index_digest = h.finish();
        document =
            self.get_manifest(client, s, ref.path(), chosen->digest.str(), chosen->digest, subject);
        check_descriptor(subject, *chosen, document.bytes);
    }
    if (!is_manifest_media_type(document.media_type)) {
        throw registry_error(subject, "unsupported manifest type '" + document.media_type + "'");
    }

    pulled_image image{.reference = ref,
                       .manifest_bytes = document.bytes,
                       .manifest_digest = digest::sha256_of(document.bytes),
                       .manifest = parse_image_manifest(document.bytes, document.media_type),
                       .index_digest = result.index_digest,
                       .config_bytes = {}};
    result.manifest_digest = image.manifest_digest;

    // The config is small and the sink's commit_image() needs its bytes: fetch it first.
    const descriptor& config = image.manifest.config;
    constexpr std::int64_t max_config_size = 64 << 20;
    if (config.size > max_config_size) {
        throw registry_error(subject, "the image config is larger than 64 MiB");
    }
    self.with_retries(
        [&](int) {
            http_response response =
                self.send(client, s,
                          make_request("GET", s.base_url + "/v2/" + ref.path() + "/blobs/" +
                                                  config.digest.str()),
                          scope);
            if (response.status != 200) throw response_error(config.digest.str(), response);
            image.config_bytes = std::move(response.body);
        },
        [](int, const std::string&) {});
    check_descriptor(config.digest.str(), config, image.config_bytes);

    std::vector<descriptor> blobs;
    std::set<digest> seen;
    for (const descriptor& layer : image.manifest.layers) {
        if (seen.insert(layer.digest).second) blobs.push_back(layer);
    }
    sink.begin_image(image);
    if (!sink.has_blob(config)) {
        std::unique_ptr<incoming_blob> in = sink.open_blob(config);
        in->write(std::as_bytes(std::span(image.config_bytes)));
        in->commit();
    }

    std::atomic<std::uint64_t> downloaded{0};
    std::atomic<std::size_t> skipped{0};
    self.for_each_parallel(s, blobs, [&](http_client& c, const descriptor& blob) {
        progress_event event{.step = progress_event::phase::exists,
                             .blob = blob.digest,
                             .media_type = blob.media_type,
                             .done = 0,
                             .total = static_cast<std::uint64_t>(blob.size),
                             .attempt = 1,
                             .detail = {}};
        if (sink.has_blob(blob)) {
            ++skipped;
            event.done = event.total;
            self.report(event);
            return;
        }
        // NOTE: foreign layers (with `urls`) are fetched from the registry like any other
        // blob; the URLs are not tried.
        std::unique_ptr<incoming_blob> in = sink.open_blob(blob);
        std::uint64_t received = 0;
        hasher h(blob.digest.algorithm());
        // A retry after a cut connection requests the rest of the blob with a Range header.
        // The digest covers the whole blob because the hasher and the sink keep their state.
        // A registry that ignores ranges (HTTP 200) sends the whole blob, which starts over.
        bool ranges_refused = false;
        auto start_over = [&] {
            in->restart();
            h = hasher(blob.digest.algorithm());
            received = 0;
        };
        const std::string url = s.base_url + "/v2/" + ref.path() + "/blobs/" + blob.digest.str();
        self.with_retries(
            [&](int attempt) {
                const bool resume = received > 0 && !ranges_refused;
                if (received > 0 && !resume) start_over();
                event.attempt = attempt;
                std::uint64_t next_report = 0;
                http_request request = make_request("GET", url);
                if (resume) {
                    request.headers.emplace_back("Range",
                                                 "bytes=" + std::to_string(received) + "-");
                }
                request.body_start = [&](long status, const std::vector<http_header>& headers) {
                    if (!resume) return;
                    if (status == 206 && content_range_start(headers) == received) return;
                    ranges_refused = true;
                    if (status != 200) {
                        throw transport_error(url, transport_failure::interrupted,
                                              "the registry answered the range request with "
                                              "HTTP " +
                                                  std::to_string(status) + " and another range");
                    }
                    start_over();
                };
                request.body_writer = [&](std::string_view bytes) {
                    if (self.cancelled) throw registry_error(blob.digest.str(), "cancelled");
                    if (received + bytes.size() > static_cast<std::uint64_t>(blob.size)) {
                        throw registry_error(blob.digest.str(), "the registry sent more than the " +
                                                                    std::to_string(blob.size) +
                                                                    " bytes the manifest declares");
                    }
                    h.update(bytes);
                    in->write(std::as_bytes(std::span(bytes)));
                    received += bytes.size();
                    if (received >= next_report) {
                        event.step = progress_event::phase::transferring;
                        event.done = received;
                        self.report(event);
                        next_report = received + progress_step;
                    }
                };
                const http_response response = self.send(c, s, std::move(request), scope);
                if (resume && response.status == 416) {
                    ranges_refused = true;
                    throw transport_error(url, transport_failure::interrupted,
                                          "the registry rejected the range request (HTTP 416)");
                }
                if (response.status != 200 && !(resume && response.status == 206)) {
                    throw response_error(blob.digest.str(), response);
                }
                if (received != static_cast<std::uint64_t>(blob.size)) {
                    throw transport_error(url, transport_failure::interrupted,
                                          "the connection ended after " + std::to_string(received) +
                                              " of " + std::to_string(blob.size) + " bytes");
                }
            },
            [&](int attempt, const std::string& why) {
                event.step = progress_event::phase::retrying;
                event.attempt = attempt;
                event.detail = why;
                if (received > 0 && !ranges_refused) {
                    event.detail += "; resuming at byte " + std::to_string(received);
                }
                self.report(event);
            });
        const digest actual = h.finish();
        if (actual != blob.digest) {
            throw registry_error(blob.digest.str(),
                                 "digest mismatch: received content with digest " + actual.str());
        }
        in->commit();
        downloaded += received;
        event.step = progress_event::phase::done;
        event.done = received;
        self.report(event);
    });
    result.bytes_downloaded = downloaded;
    result.blobs_skipped = skipped;
    sink.commit_image(image);
    return result;
}

}  // namespace dockwright::registry
