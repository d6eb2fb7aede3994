// Downloading ADD's URL sources.
#include <dockwright/build/context_source.hpp>
#include <dockwright/build/url_source.hpp>
#include <dockwright/core/error.hpp>

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
    try {
        detail::download_context(url, dir.path() / filename, {});
    } catch (const context_error& e) {
        std::string message = e.docker_message();
        const std::string context_prefix =
            "unable to prepare context: unable to download remote "
            "context " +
            url + ": ";
        if (message.starts_with(context_prefix)) message.erase(0, context_prefix.size());
        throw error(message);
    }
    return {dir.release(), filename};
}

}  // namespace dockwright
