// libcurl behind http_client: one easy handle per client; libcurl is loaded on first use.
#include "dockwright/registry/http_client.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <exception>

#include "../core/curl_library.hpp"

namespace dockwright::registry {

namespace {

const detail::curl_library& lib() {
    return detail::curl();
}

struct curl_deleter {
    void operator()(CURL* handle) const noexcept { lib().easy_cleanup(handle); }
};
struct slist_deleter {
    void operator()(curl_slist* list) const noexcept { lib().slist_free_all(list); }
};
using slist_ptr = std::unique_ptr<curl_slist, slist_deleter>;

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' ||
                             text.back() == '\n'))
        text.remove_suffix(1);
    return text;
}

transport_failure classify(CURLcode code) {
    switch (code) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
            return transport_failure::connect;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
            return transport_failure::tls_verification;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
            return transport_failure::tls_handshake;
        case CURLE_OPERATION_TIMEDOUT:
            return transport_failure::timeout;
        case CURLE_PARTIAL_FILE:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
            return transport_failure::interrupted;
        default:
            return transport_failure::other;
    }
}

/// The state the libcurl callbacks of one transfer share.
struct transfer {
    const http_request* request = nullptr;
    http_response* response = nullptr;
    std::exception_ptr failure;
    std::size_t body_offset = 0;
    long status = 0;
    bool body_started = false;
};

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto& t = *static_cast<transfer*>(user);
    const std::string_view line(data, size * count);
    if (line.starts_with("HTTP/")) {
        // A new response begins (after a redirect or a 100 Continue): drop earlier headers.
        t.response->headers.clear();
        const auto space = line.find(' ');
        if (space != std::string_view::npos) t.status = std::atol(line.data() + space + 1);
        return line.size();
    }
    const auto colon = line.find(':');
    if (colon != std::string_view::npos) {
        t.response->headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                         std::string(trim(line.substr(colon + 1))));
    }
    return line.size();
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto& t = *static_cast<transfer*>(user);
    const std::size_t total = size * count;
    const bool streamed = t.request->body_writer && t.status >= 200 && t.status < 300;
    if (!streamed) {
        t.response->body.append(data, total);
        return total;
    }
    try {
        if (!t.body_started) {
            t.body_started = true;
            if (t.request->body_start) t.request->body_start(t.status, t.response->headers);
        }
        t.request->body_writer(std::string_view(data, total));
    } catch (...) {
        t.failure = std::current_exception();
        return 0;  // Makes libcurl abort the transfer with CURLE_WRITE_ERROR.
    }
    return total;
}

std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* user) {
    auto& t = *static_cast<transfer*>(user);
    const std::size_t room = size * count;
    if (t.request->body_reader) {
        try {
            return t.request->body_reader(std::span<char>(buffer, room));
        } catch (...) {
            t.failure = std::current_exception();
            return CURL_READFUNC_ABORT;
        }
    }
    const std::string_view rest = t.request->body.substr(t.body_offset);
    const std::size_t n = std::min(room, rest.size());
    if (n != 0) std::memcpy(buffer, rest.data(), n);
    t.body_offset += n;
    return n;
}

int on_seek(void* user, curl_off_t offset, int origin) {
    // Rewinding is needed when a request body is resent after a redirect or an auth retry.
    auto& t = *static_cast<transfer*>(user);
    if (origin != SEEK_SET || t.request->body_reader) return CURL_SEEKFUNC_CANTSEEK;
    t.body_offset = static_cast<std::size_t>(offset);
    return CURL_SEEKFUNC_OK;
}

}  // namespace

std::optional<std::string> http_response::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (iequals(key, name)) return value;
    }
    return std::nullopt;
}

struct http_client::state {
    http_options options;
    std::unique_ptr<CURL, curl_deleter> handle;
};

http_client::http_client(http_options options) : state_(std::make_unique<state>()) {
    state_->options = std::move(options);
    state_->handle.reset(lib().easy_init());
    if (!state_->handle) {
        throw transport_error("", transport_failure::other, "curl_easy_init failed");
    }
}

http_client::~http_client() = default;
http_client::http_client(http_client&&) noexcept = default;
http_client& http_client::operator=(http_client&&) noexcept = default;

const http_options& http_client::options() const noexcept {
    return state_->options;
}

http_response http_client::send(const http_request& request) {
    CURL* curl = state_->handle.get();
    lib().easy_reset(curl);
    const http_options& options = state_->options;

    http_response response;
    transfer t;
    t.request = &request;
    t.response = &response;

    slist_ptr headers;
    for (const auto& [name, value] : request.headers) {
        const std::string line = name + ": " + value;
        curl_slist* next = lib().slist_append(headers.get(), line.c_str());
        if (next == nullptr) throw std::bad_alloc();
        (void)headers.release();
        headers.reset(next);
    }
    // libcurl sends `Expect: 100-continue` for large bodies; registries support it, but it
    // costs a round trip per upload.
    curl_slist* next = lib().slist_append(headers.get(), "Expect:");
    if (next == nullptr) throw std::bad_alloc();
    (void)headers.release();
    headers.reset(next);

    lib().easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    lib().easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
    lib().easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    lib().easy_setopt(curl, CURLOPT_USERAGENT, "dockwright/" DOCKWRIGHT_VERSION);
    lib().easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    lib().easy_setopt(curl, CURLOPT_HEADERDATA, &t);
    lib().easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    lib().easy_setopt(curl, CURLOPT_WRITEDATA, &t);
    lib().easy_setopt(curl, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
    lib().easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
    lib().easy_setopt(curl, CURLOPT_CONNECTTIMEOUT,
                     static_cast<long>(options.connect_timeout.count()));
    lib().easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                     static_cast<long>(options.low_speed_time.count()));
    lib().easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, options.low_speed_limit);
    lib().easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    lib().easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    lib().easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, options.tls.verify ? 1L : 0L);
    lib().easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, options.tls.verify ? 2L : 0L);
    if (options.tls.ca_file) {
        lib().easy_setopt(curl, CURLOPT_CAINFO, options.tls.ca_file->c_str());
    }
    if (options.tls.client_certificate) {
        lib().easy_setopt(curl, CURLOPT_SSLCERT, options.tls.client_certificate->c_str());
    }
    if (options.tls.client_key) {
        lib().easy_setopt(curl, CURLOPT_SSLKEY, options.tls.client_key->c_str());
    }

    const bool has_body = request.body_reader || !request.body.empty();
    const curl_off_t body_size =
        static_cast<curl_off_t>(request.body_reader ? request.body_size : request.body.size());
    if (request.method == "HEAD") {
        lib().easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (request.method == "PUT" || request.method == "PATCH" || request.method == "POST") {
        lib().easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        lib().easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
        lib().easy_setopt(curl, CURLOPT_READDATA, &t);
        lib().easy_setopt(curl, CURLOPT_SEEKFUNCTION, on_seek);
        lib().easy_setopt(curl, CURLOPT_SEEKDATA, &t);
        lib().easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, has_body ? body_size : curl_off_t{0});
        if (request.method != "PUT") {
            lib().easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
        }
    } else if (request.method != "GET") {
        lib().easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }

    char message[CURL_ERROR_SIZE] = {};
    lib().easy_setopt(curl, CURLOPT_ERRORBUFFER, message);
    const CURLcode code = lib().easy_perform(curl);
    if (t.failure) std::rethrow_exception(t.failure);
    if (code != CURLE_OK) {
        std::string detail = message[0] != '\0' ? message : lib().easy_strerror(code);
        while (!detail.empty() && detail.back() == '\n')
            detail.pop_back();
        throw transport_error(request.url, classify(code), detail);
    }
    lib().easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    if (const char* url = nullptr;
        lib().easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url != nullptr) {
        response.effective_url = url;
    }
    return response;
}

std::string url_encode(std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (std::isalnum(byte) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += c;
        } else {
            out += '%';
            out += hex[byte >> 4];
            out += hex[byte & 0xF];
        }
    }
    return out;
}

std::string base64_encode(std::string_view bytes) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const unsigned v = static_cast<unsigned char>(bytes[i]) << 16 |
                           static_cast<unsigned char>(bytes[i + 1]) << 8 |
                           static_cast<unsigned char>(bytes[i + 2]);
        out += alphabet[v >> 18 & 63];
        out += alphabet[v >> 12 & 63];
        out += alphabet[v >> 6 & 63];
        out += alphabet[v & 63];
    }
    if (i + 1 == bytes.size()) {
        const unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
        out += alphabet[v >> 18 & 63];
        out += alphabet[v >> 12 & 63];
        out += "==";
    } else if (i + 2 == bytes.size()) {
        const unsigned v = static_cast<unsigned char>(bytes[i]) << 16 |
                           static_cast<unsigned char>(bytes[i + 1]) << 8;
        out += alphabet[v >> 18 & 63];
        out += alphabet[v >> 12 & 63];
        out += alphabet[v >> 6 & 63];
        out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    while (!text.empty() && text.back() == '=')
        text.remove_suffix(1);
    std::string out;
    unsigned buffer = 0;
    int bits = 0;
    for (const char c : text) {
        int v = -1;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+')
            v = 62;
        else if (c == '/')
            v = 63;
        if (v < 0) return std::nullopt;
        buffer = (buffer << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buffer >> bits) & 0xFF);
        }
    }
    if (bits >= 6) return std::nullopt;  // A single leftover character cannot encode a byte.
    return out;
}

}  // namespace dockwright::registry
