// libcurl loaded on first use: several threads starting their first download at once.
#include "../../cpp/src/lib/core/curl_library.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

using dockwright::detail::curl;
using dockwright::detail::curl_library;

TEST_CASE("curl library loads once for racing threads", "[registry][curl]") {
    constexpr int thread_count = 8;
    std::atomic<int> waiting{thread_count};
    std::vector<const curl_library*> seen(thread_count, nullptr);
    std::vector<int> handles_made(thread_count, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < thread_count; ++t) {
        threads.emplace_back([&, t] {
            // Every thread calls curl() as soon as all of them are running.
            waiting.fetch_sub(1);
            while (waiting.load() > 0) {
            }
            const curl_library& api = curl();
            seen[t] = &api;
            CURL* handle = api.easy_init();
            if (handle != nullptr) {
                ++handles_made[t];
                api.easy_cleanup(handle);
            }
        });
    }
    for (std::thread& thread : threads)
        thread.join();
    for (int t = 0; t < thread_count; ++t) {
        INFO("thread " << t);
        CHECK(seen[t] == seen[0]);
        CHECK(handles_made[t] == 1);
    }
    const curl_library& api = curl();
    CHECK(api.easy_init != nullptr);
    CHECK(api.easy_cleanup != nullptr);
    CHECK(api.easy_reset != nullptr);
    CHECK(api.easy_setopt != nullptr);
    CHECK(api.easy_getinfo != nullptr);
    CHECK(api.easy_perform != nullptr);
    CHECK(api.easy_strerror != nullptr);
    CHECK(api.slist_append != nullptr);
    CHECK(api.slist_free_all != nullptr);
    CHECK(std::string(api.easy_strerror(CURLE_OK)) == "No error");
}
