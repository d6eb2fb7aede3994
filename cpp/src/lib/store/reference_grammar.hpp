// Docker's reference grammar (distribution/reference), matched by hand and by std::regex.
#pragma once

#include <optional>
#include <string_view>

namespace dockwright::detail {

/// The three parts of a reference that matches the grammar, as views into the input.
struct reference_parts {
    std::string_view name;
    std::optional<std::string_view> tag;
    std::optional<std::string_view> digest;

    bool operator==(const reference_parts&) const = default;
};

/// Matches `text` against the grammar
/// `name[:tag][@digest]` with
///   name      = [domain "/"] component ("/" component)*
///   domain    = label ("." label)* [":" port], label alphanumeric with inner hyphens
///   component = [a-z0-9]+ (("." | "_" | "__" | "-"*) [a-z0-9]+)*
///   tag       = [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
///   digest    = algorithm ":" hex{32,}
/// without building a regular expression (std::regex takes about half a millisecond to
/// compile this one). Returns nothing when the text does not match.
[[nodiscard]] std::optional<reference_parts> match_reference(std::string_view text);

/// The same grammar as one std::regex, the reference definition for tests.
[[nodiscard]] std::optional<reference_parts> match_reference_regex(std::string_view text);

}  // namespace dockwright::detail
