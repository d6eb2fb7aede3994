// libcurl, loaded with dlopen the first time a download starts. Linking it would make every
// run of the program (a config-only build, `version`) pay for resolving the symbols of the
// twenty-odd libraries libcurl itself needs: about 3.5 ms of an 8 ms start-up on the bench VM.
#pragma once

#include <curl/curl.h>

namespace dockwright::detail {

/// The libcurl entry points dockwright calls, resolved from libcurl.so.4.
struct curl_library {
    decltype(&::curl_easy_init) easy_init;
    decltype(&::curl_easy_cleanup) easy_cleanup;
    decltype(&::curl_easy_reset) easy_reset;
    decltype(&::curl_easy_setopt) easy_setopt;
    decltype(&::curl_easy_getinfo) easy_getinfo;
    decltype(&::curl_easy_perform) easy_perform;
    decltype(&::curl_easy_strerror) easy_strerror;
    decltype(&::curl_slist_append) slist_append;
    decltype(&::curl_slist_free_all) slist_free_all;
};

/// Loads libcurl.so.4 and runs its global initialisation, once per process. Throws
/// dockwright::error naming the library and the loader's message when it cannot be loaded.
const curl_library& curl();

}  // namespace dockwright::detail
