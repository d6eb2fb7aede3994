// http(s) contexts: downloading the archive or Dockerfile a URL names with libcurl, and the
// smart-server probe of git contexts.
#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <exception>
#include <memory>

#include "../core/curl_library.hpp"
#include "../core/unique_fd.hpp"
#include "context_internal.hpp"

namespace dockwright::detail {

namespace {

/// The most an error response's body contributes to a message.
constexpr std::size_t max_error_body = 64 * 1024;

const curl_library& lib() {
    return curl();
}

struct curl_deleter {
    void operator()(CURL* handle) const noexcept { lib().easy_cleanup(handle); }
};
using curl_handle = std::unique_ptr<CURL, curl_deleter>;

curl_handle make_handle(const std::string& url) {
    curl_handle curl(lib().easy_init());
    if (!curl) return curl;
    lib().easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    lib().easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    // Go's http.Get follows at most 10 redirects; only http and https are fetched.
    lib().easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
    lib().easy_setopt(curl.get(), CURLOPT_MAXREDIRS, 10L);
    lib().easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
    lib().easy_setopt(curl.get(), CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    lib().easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, 30L);
    // A transfer that stalls below 1 byte per second for a minute fails instead of hanging.
    lib().easy_setopt(curl.get(), CURLOPT_LOW_SPEED_LIMIT, 1L);
    lib().easy_setopt(curl.get(), CURLOPT_LOW_SPEED_TIME, 60L);
    lib().easy_setopt(curl.get(), CURLOPT_USERAGENT, "dockwright/" DOCKWRIGHT_VERSION);
    return curl;
}

/// The reason phrase Go prints when a server sends none (HTTP/2 has no reason phrases).
std::string standard_reason(long status) {
    switch (status) {
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 410:
            return "Gone";
        case 429:
            return "Too Many Requests";
        case 500:
            return "Internal Server Error";
        case 501:
            return "Not Implemented";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        default:
            return "";
    }
}

/// The state of one download shared by the libcurl callbacks.
struct download_state {
    CURL* curl = nullptr;
    int fd = -1;
    std::string status_line;   ///< `404 Not Found` from the last status line.
    std::string content_type;  ///< From the last response's headers.
    std::string error_body;    ///< The start of the body of a response with status >= 400.
    std::uint64_t received = 0;
    const std::function<void(std::uint64_t, std::optional<std::uint64_t>)>* progress = nullptr;
    std::exception_ptr failure;
    int write_errno = 0;
};

long current_status(CURL* curl) {
    long status = 0;
    lib().easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

std::string trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
        text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.remove_suffix(1);
    return std::string(text);
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto& state = *static_cast<download_state*>(user);
    const std::string_view line(data, size * count);
    if (line.starts_with("HTTP/")) {
        const auto space = line.find(' ');
        state.status_line = space == std::string_view::npos ? "" : trim(line.substr(space + 1));
        state.content_type.clear();
        return line.size();
    }
    const auto colon = line.find(':');
    if (colon != std::string_view::npos) {
        std::string name = trim(line.substr(0, colon));
        for (auto& c : name)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (name == "content-type") state.content_type = trim(line.substr(colon + 1));
    }
    return line.size();
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto& state = *static_cast<download_state*>(user);
    const std::size_t total = size * count;
    if (current_status(state.curl) >= 400) {
        const std::size_t room = max_error_body - std::min(max_error_body, state.error_body.size());
        state.error_body.append(data, std::min(room, total));
        return total;
    }
    if (state.fd < 0) return total;
    std::size_t done = 0;
    while (done < total) {
        const ssize_t written = ::write(state.fd, data + done, total - done);
        if (written < 0 && errno == EINTR) continue;
        if (written < 0) {
            state.write_errno = errno;
            return 0;  // Makes libcurl abort with CURLE_WRITE_ERROR.
        }
        done += static_cast<std::size_t>(written);
    }
    state.received += total;
    if (state.progress && *state.progress) {
        curl_off_t length = -1;
        lib().easy_getinfo(state.curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
        try {
            (*state.progress)(state.received,
                              length >= 0 ? std::optional<std::uint64_t>(length) : std::nullopt);
        } catch (...) {
            state.failure = std::current_exception();
            return 0;
        }
    }
    return total;
}

}  // namespace

std::optional<std::int64_t> download_context(
    const std::string& url, const std::filesystem::path& target,
    const std::function<void(std::uint64_t, std::optional<std::uint64_t>)>& progress) {
    const std::string prefix =
        "unable to prepare context: unable to download remote context " + url + ": ";
    unique_fd file(::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!file) {
        throw context_error(target.string(),
                            prefix + "open " + target.string() + ": " + errno_text(errno),
                            "check that the work directory is writable");
    }
    curl_handle curl = make_handle(url);
    if (!curl) {
        throw context_error(url, prefix + "cannot start libcurl", "try again");
    }
    download_state state;
    state.curl = curl.get();
    state.fd = file.get();
    state.progress = &progress;
    char error_text[CURL_ERROR_SIZE] = {};
    lib().easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error_text);
    lib().easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, on_header);
    lib().easy_setopt(curl.get(), CURLOPT_HEADERDATA, &state);
    lib().easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, on_body);
    lib().easy_setopt(curl.get(), CURLOPT_WRITEDATA, &state);
    lib().easy_setopt(curl.get(), CURLOPT_FILETIME, 1L);
    const CURLcode code = lib().easy_perform(curl.get());
    if (state.failure) std::rethrow_exception(state.failure);
    if (state.write_errno != 0) {
        throw context_error(
            url, prefix + "write " + target.string() + ": " + errno_text(state.write_errno),
            state.write_errno == ENOSPC
                ? "free space in the work directory; the download did not fit"
                : "check the work directory");
    }
    if (code != CURLE_OK) {
        const std::string detail = error_text[0] ? error_text : lib().easy_strerror(code);
        throw context_error(url, prefix + "Get \"" + url + "\": " + detail,
                            "check the URL and that the server is reachable");
    }
    const long status = current_status(curl.get());
    if (status >= 400) {
        std::string shown = state.status_line;
        if (shown.empty() || shown == std::to_string(status)) {
            shown = std::to_string(status) + " " + standard_reason(status);
        }
        throw context_error(url,
                            prefix + "failed to GET " + url + " with status " + shown + ": " +
                                trim(state.error_body),
                            "check the URL");
    }
    if (::fsync(file.get()) != 0 && errno != EINVAL) {
        throw context_error(url, prefix + "write " + target.string() + ": " + errno_text(errno),
                            "check the work directory");
    }
    curl_off_t modified = -1;
    if (lib().easy_getinfo(curl.get(), CURLINFO_FILETIME_T, &modified) != CURLE_OK ||
        modified < 0) {
        return std::nullopt;
    }
    return static_cast<std::int64_t>(modified);
}

bool is_smart_git_server(const std::string& remote) {
    // The probe only decides between a shallow and a full fetch, which git does with its own
    // HTTP library (Debian's git uses libcurl-gnutls). Without libcurl.so.4 the fetch is full.
    try {
        (void)lib();
    } catch (const error&) {
        return false;
    }
    const std::string service = remote + "/info/refs?service=git-upload-pack";
    auto probe = [&](bool head) -> std::optional<std::string> {
        curl_handle curl = make_handle(service);
        if (!curl) return std::nullopt;
        download_state state;
        state.curl = curl.get();
        lib().easy_setopt(curl.get(), CURLOPT_NOBODY, head ? 1L : 0L);
        lib().easy_setopt(curl.get(), CURLOPT_TIMEOUT, 60L);
        lib().easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, on_header);
        lib().easy_setopt(curl.get(), CURLOPT_HEADERDATA, &state);
        lib().easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, on_body);
        lib().easy_setopt(curl.get(), CURLOPT_WRITEDATA, &state);
        if (lib().easy_perform(curl.get()) != CURLE_OK) return std::nullopt;
        if (current_status(curl.get()) != 200) return std::nullopt;
        return state.content_type;
    };
    auto type = probe(true);
    if (!type) type = probe(false);
    return type && *type == "application/x-git-upload-pack-advertisement";
}

}  // namespace dockwright::detail
