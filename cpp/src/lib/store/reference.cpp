// Docker's reference grammar (distribution/reference) and its docker.io normalisation.
#include "dockwright/store/reference.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>
#include <regex>
#include <string>

#include "dockwright/core/error.hpp"
#include "reference_grammar.hpp"

namespace dockwright {

namespace detail {

namespace {

bool is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool is_alnum(char c) {
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

bool is_word(char c) {
    return is_alnum(c) || c == '_';
}

bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/// [a-z0-9]+ (("." | "_" | "__" | "-"*) [a-z0-9]+)*
bool is_path_component(std::string_view text) {
    std::size_t i = 0;
    while (true) {
        const std::size_t run = i;
        while (i < text.size() && is_lower_alnum(text[i]))
            ++i;
        if (i == run) return false;  // a separator must be followed by [a-z0-9]
        if (i == text.size()) return true;
        const std::size_t separator = i;
        while (i < text.size() && text[i] == '-')
            ++i;
        if (i == separator) {
            if (text[i] == '.') {
                ++i;
            } else if (text[i] == '_') {
                i += text.substr(i).starts_with("__") ? 2 : 1;
            } else {
                return false;
            }
        }
    }
}

/// label ("." label)* [":" [0-9]+], a label being [a-zA-Z0-9] or [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool is_domain(std::string_view text) {
    if (const auto colon = text.find(':'); colon != std::string_view::npos) {
        const std::string_view port = text.substr(colon + 1);
        if (port.empty() || !std::all_of(port.begin(), port.end(), [](char c) {
                return c >= '0' && c <= '9';
            })) {
            return false;
        }
        text = text.substr(0, colon);
    }
    while (true) {
        const std::size_t dot = text.find('.');
        const std::string_view label = text.substr(0, dot);
        if (label.empty() || !is_alnum(label.front()) || !is_alnum(label.back())) return false;
        if (!std::all_of(label.begin(), label.end(),
                         [](char c) { return is_alnum(c) || c == '-'; })) {
            return false;
        }
        if (dot == std::string_view::npos) return true;
        text = text.substr(dot + 1);
    }
}

bool is_name(std::string_view text) {
    const std::size_t slash = text.find('/');
    if (slash == std::string_view::npos) return is_path_component(text);
    const std::string_view first = text.substr(0, slash);
    if (!is_path_component(first) && !is_domain(first)) return false;
    text = text.substr(slash + 1);
    while (true) {
        const std::size_t next = text.find('/');
        if (!is_path_component(text.substr(0, next))) return false;
        if (next == std::string_view::npos) return true;
        text = text.substr(next + 1);
    }
}

/// [\w][\w.-]{0,127}
bool is_tag(std::string_view text) {
    if (text.empty() || text.size() > 128 || !is_word(text.front())) return false;
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return is_word(c) || c == '.' || c == '-'; });
}

/// [A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)* ":" [0-9a-fA-F]{32,}
bool is_digest(std::string_view text) {
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos) return false;
    const std::string_view hex = text.substr(colon + 1);
    if (hex.size() < 32 || !std::all_of(hex.begin(), hex.end(), is_hex)) return false;
    const std::string_view algorithm = text.substr(0, colon);
    bool component_start = true;
    for (const char c : algorithm) {
        const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (component_start) {
            if (!letter) return false;
            component_start = false;
        } else if (c == '-' || c == '_' || c == '+' || c == '.') {
            component_start = true;
        } else if (!is_alnum(c)) {
            return false;
        }
    }
    return !component_start;
}

}  // namespace

std::optional<reference_parts> match_reference(std::string_view text) {
    reference_parts parts;
    std::string_view rest = text;
    if (const std::size_t at = rest.find('@'); at != std::string_view::npos) {
        parts.digest = rest.substr(at + 1);
        if (!is_digest(*parts.digest)) return std::nullopt;
        rest = rest.substr(0, at);
    }
    // A tag follows the last colon when no slash comes after it; a colon before a slash can
    // only be the port of the domain.
    if (const std::size_t colon = rest.rfind(':');
        colon != std::string_view::npos && rest.find('/', colon) == std::string_view::npos) {
        parts.tag = rest.substr(colon + 1);
        if (!is_tag(*parts.tag)) return std::nullopt;
        rest = rest.substr(0, colon);
    }
    if (!is_name(rest)) return std::nullopt;
    parts.name = rest;
    return parts;
}

std::optional<reference_parts> match_reference_regex(std::string_view text) {
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
    std::match_results<std::string_view::const_iterator> match;
    if (!std::regex_match(text.begin(), text.end(), match, pattern)) return std::nullopt;
    const auto view = [&](std::size_t group) {
        return text.substr(static_cast<std::size_t>(match.position(group)),
                           static_cast<std::size_t>(match.length(group)));
    };
    reference_parts parts{view(1), std::nullopt, std::nullopt};
    if (match[2].matched) parts.tag = view(2);
    if (match[3].matched) parts.digest = view(3);
    return parts;
}

}  // namespace detail

namespace {

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
    const std::optional<detail::reference_parts> parts = detail::match_reference(text);
    if (!parts) {
        if (detail::match_reference(lower(text))) {
            reject(text, "repository name must be lowercase");
        }
        reject(text, "invalid reference format");
    }
    const std::string name(parts->name);
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
    if (parts->tag) result.tag_ = std::string(*parts->tag);
    if (parts->digest) {
        try {
            result.digest_ = digest::parse(*parts->digest);
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
