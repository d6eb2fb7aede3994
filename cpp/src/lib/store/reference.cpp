// Docker's reference grammar (distribution/reference) and its docker.io normalisation.
#include "dockwright/store/reference.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>
#include <regex>

#include "dockwright/core/error.hpp"

namespace dockwright {

namespace {

const std::regex& reference_pattern() {
    static const std::string domain_component =
        "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    static const std::string domain =
        domain_component + "(?:\\." + domain_component + ")*(?::[0-9]+)?";
    static const std::string name_component = "[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*";
    static const std::string name =
        "(?:" + domain + "/)?" + name_component + "(?:/" + name_component + ")*";
    static const std::string tag = "[\\w][\\w.-]{0,127}";
    static const std::string digest =
        "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
    static const std::regex pattern("^(" + name + ")(?::(" + tag + "))?(?:@(" + digest + "))?$");
    return pattern;
}

bool is_hex_id(std::string_view text) {
    return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
               return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
           });
}

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

[[noreturn]] void reject(std::string_view text, std::string reason) {
    throw invalid_value_error("reference", std::string(text), std::move(reason));
}

}  // namespace

reference reference::parse(std::string_view text) {
    if (text.empty()) reject(text, "repository name must have at least one component");
    if (is_hex_id(text)) {
        reject(text, "cannot specify 64-byte hexadecimal strings as a repository name");
    }
    const std::string input(text);
    std::smatch match;
    if (!std::regex_match(input, match, reference_pattern())) {
        const std::string lowered = lower(text);
        if (std::regex_match(lowered, reference_pattern())) {
            reject(text, "repository name must be lowercase");
        }
        reject(text, "invalid reference format");
    }
    const std::string name = match[1].str();
    if (name.size() > 255) reject(text, "repository name must not be more than 255 characters");

    reference result;
    const auto slash = name.find('/');
    const std::string first = slash == std::string::npos ? "" : name.substr(0, slash);
    if (slash == std::string::npos || (first.find_first_of(".:") == std::string::npos &&
                                       first != "localhost" && lower(first) == first)) {
        result.domain_ = "docker.io";
        result.path_ = name;
    } else {
        result.domain_ = first;
        result.path_ = name.substr(slash + 1);
    }
    if (result.domain_ == "index.docker.io") result.domain_ = "docker.io";
    if (result.domain_ == "docker.io" && result.path_.find('/') == std::string::npos) {
        result.path_ = "library/" + result.path_;
    }
    if (lower(result.path_) != result.path_) reject(text, "repository name must be lowercase");
    if (match[2].matched) result.tag_ = match[2].str();
    if (match[3].matched) {
        try {
            result.digest_ = digest::parse(match[3].str());
        } catch (const invalid_value_error& e) {
            reject(text, "invalid digest: " + e.reason());
        }
    }
    return result;
}

reference reference::parse_tagged(std::string_view text) {
    reference result = parse(text);
    if (!result.tag_ && !result.digest_) result.tag_ = "latest";
    return result;
}

std::string reference::familiar_name() const {
    if (domain_ != "docker.io") return name();
    constexpr std::string_view library = "library/";
    if (path_.starts_with(library) && path_.find('/', library.size()) == std::string::npos) {
        return path_.substr(library.size());
    }
    return path_;
}

std::string reference::str() const {
    std::string text = name();
    if (tag_) text += ":" + *tag_;
    if (digest_) text += "@" + digest_->str();
    return text;
}

std::string reference::familiar() const {
    std::string text = familiar_name();
    if (tag_) text += ":" + *tag_;
    if (digest_) text += "@" + digest_->str();
    return text;
}

reference reference::with_tag(std::string tag) const {
    reference result = *this;
    result.tag_ = std::move(tag);
    result.digest_.reset();
    return result;
}

reference reference::with_digest(dockwright::digest digest) const {
    reference result = *this;
    result.tag_.reset();
    result.digest_ = std::move(digest);
    return result;
}

bool reference::familiar_match(std::string_view pattern) const {
    // For `*`, `?` and bracket classes, fnmatch(3) with FNM_PATHNAME matches as Go's
    // path.Match does, which Docker calls.
    const std::string glob(pattern);
    const auto matches = [&](const std::string& text) {
        return ::fnmatch(glob.c_str(), text.c_str(), FNM_PATHNAME) == 0;
    };
    return matches(familiar()) || matches(familiar_name());
}

}  // namespace dockwright
