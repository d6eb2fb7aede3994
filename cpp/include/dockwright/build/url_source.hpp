// ADD sources given as http(s) URLs: downloaded into a temporary directory first.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace dockwright {

/// Whether an ADD source is a remote URL (`http://` or `https://`), as Docker tests it.
[[nodiscard]] bool is_url_source(std::string_view source);

/// Downloads `url` into a new directory under `work_dir`, as Docker's ADD does: the file is
/// named after the last component of the URL's path and gets mode 0600. The caller removes
/// `dir`. Throws dockwright::error naming the URL when the name cannot be derived, the
/// transfer fails or the server answers with an error status.
struct downloaded_source {
    std::filesystem::path dir;
    std::string filename;
};
downloaded_source download_source(const std::string& url, const std::filesystem::path& work_dir);

}  // namespace dockwright
