// The pattern operators of word expansion: `${VAR#p}`, `${VAR%p}`, `${VAR/p/r}` and their
// doubled forms. Internal to the shell lexer.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace dockwright::detail {

/// A pattern that cannot be converted, such as one with `\x`; what() is the reason.
class shell_pattern_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// Removes the shortest (or with `greedy` the longest) prefix of `value` that `pattern` matches.
std::string trim_prefix(std::string_view pattern, std::string_view value, bool greedy);

/// Removes the shortest (or with `greedy` the longest) suffix of `value` that `pattern` matches.
std::string trim_suffix(std::string_view pattern, std::string_view value, bool greedy);

/// Replaces the leftmost match of `pattern` in `value`, with `*` greedy, by `replacement`.
std::string replace_first(std::string_view pattern, std::string_view value,
                          std::string_view replacement);

/// Replaces every match of `pattern` in `value`. As in Docker, `replacement` is a Go regexp
/// template: `$0` and `${0}` insert the matched text, `$$` a dollar sign, and any other `$name`
/// nothing.
std::string replace_all(std::string_view pattern, std::string_view value,
                        std::string_view replacement);

}  // namespace dockwright::detail
