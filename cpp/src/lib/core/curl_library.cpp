// Loading libcurl on first use.
#include "curl_library.hpp"

#include <dlfcn.h>

#include <mutex>
#include <string>

#include "dockwright/core/error.hpp"

namespace dockwright::detail {

namespace {

constexpr const char* library_name = "libcurl.so.4";
/// 7.85.0 as libcurl's version_num (0xXXYYZZ).
constexpr unsigned int minimum_version = 0x075500;

[[noreturn]] void fail(const std::string& what) {
    throw error("cannot load " + std::string(library_name) + " for http(s) transfers: " + what +
                "; install Debian's libcurl4 package (or another libcurl 7.85 or later)");
}

template <typename Function>
void resolve(void* handle, const char* name, Function& slot) {
    ::dlerror();
    void* symbol = ::dlsym(handle, name);
    if (symbol == nullptr) {
        const char* message = ::dlerror();
        fail(message != nullptr ? message : std::string(name) + " is missing");
    }
    slot = reinterpret_cast<Function>(symbol);
}

curl_library load() {
    // Never closed: easy handles and libcurl's global state live until the process ends.
    void* handle = ::dlopen(library_name, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char* message = ::dlerror();
        fail(message != nullptr ? message : "dlopen failed");
    }

    curl_library api{};
    resolve(handle, "curl_easy_init", api.easy_init);
    resolve(handle, "curl_easy_cleanup", api.easy_cleanup);
    resolve(handle, "curl_easy_reset", api.easy_reset);
    resolve(handle, "curl_easy_setopt", api.easy_setopt);
    resolve(handle, "curl_easy_getinfo", api.easy_getinfo);
    resolve(handle, "curl_easy_perform", api.easy_perform);
    resolve(handle, "curl_easy_strerror", api.easy_strerror);
    resolve(handle, "curl_slist_append", api.slist_append);
    resolve(handle, "curl_slist_free_all", api.slist_free_all);

    // CURLOPT_PROTOCOLS_STR, which limits transfers and redirects to http and https, came in
    // libcurl 7.85.0. An older library ignores the option and applies its own defaults.
    decltype(&::curl_version_info) version_info = nullptr;
    resolve(handle, "curl_version_info", version_info);
    const curl_version_info_data* version = version_info(CURLVERSION_NOW);
    if (version == nullptr || version->version_num < minimum_version) {
        const char* name = version != nullptr && version->version != nullptr ? version->version
                                                                             : "of unknown version";
        fail("libcurl " + std::string(name) + " is older than 7.85.0");
    }

    decltype(&::curl_global_init) global_init = nullptr;
    resolve(handle, "curl_global_init", global_init);
    if (const CURLcode code = global_init(CURL_GLOBAL_DEFAULT); code != CURLE_OK) {
        fail("curl_global_init returned " + std::to_string(static_cast<int>(code)));
    }
    return api;
}

}  // namespace

const curl_library& curl() {
    // A failed load throws out of call_once, so the next download tries again.
    static curl_library api{};
    static std::once_flag once;
    std::call_once(once, [] { api = load(); });
    return api;
}

}  // namespace dockwright::detail
