// Downloading ADD's URL sources.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <dockwright/build/context_source.hpp>
#include <dockwright/build/url_source.hpp>
#include <dockwright/core/error.hpp>
#include <optional>

#include "context_internal.hpp"

namespace dockwright {

bool is_url_source(std::string_view source) {
    return source.starts_with("http://") || source.starts_with("https://");
}

downloaded_source download_source(const std::string& url, const std::filesystem::path& work_dir) {
    std::string path = url.substr(url.find("://") + 3);
    path = path.substr(0, path.find_first_of("?#"));
    const std::size_t slash = path.find('/');
    path = slash == std::string::npos ? std::string() : path.substr(slash);
    const std::string filename = path.substr(path.rfind('/') + 1);
    if (filename.empty()) {
        throw error("cannot determine filename from url: " + url +
                    " (name the file in the URL's path, e.g. https://host/file.tar)");
    }
    detail::temp_tree dir(work_dir, "add-url-");
    const std::filesystem::path file = dir.path() / filename;
    std::optional<std::int64_t> modified;
    try {
        modified = detail::download_context(url, file, {});
    } catch (const context_error& e) {
        std::string message = e.docker_message();
        const std::string context_prefix =
            "unable to prepare context: unable to download remote "
            "context " +
            url + ": ";
        if (message.starts_with(context_prefix)) message.erase(0, context_prefix.size());
        throw error(message);
    }
    // As Docker: the file's times are the Last-Modified time, else the Unix epoch. A time
    // before the epoch is the epoch too.
    const timespec when{std::max<std::int64_t>(0, modified.value_or(0)), 0};
    const std::array<timespec, 2> times{when, when};
    if (::utimensat(AT_FDCWD, file.c_str(), times.data(), 0) != 0) {
        throw error("cannot set the modification time of " + file.string() + " downloaded from " +
                    url + ": " + std::strerror(errno));
    }
    return {dir.release(), filename};
}

}  // namespace dockwright
