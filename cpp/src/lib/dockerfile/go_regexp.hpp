// The subset of Go's regexp syntax (RE2, Perl flags) that .dockerignore patterns translate to.
// Internal to the dockerignore matcher.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace dockwright::detail {

/// A compiled regular expression without alternation or capture: literals, `.`, classes with
/// ranges, POSIX names and Perl escapes, `(...)` groups, the `*`, `+` and `?` quantifiers and
/// the `^`, `$`, `\A`, `\z`, `\b`, `\B` assertions. Matching runs a Pike VM over code points,
/// so it takes time linear in the text.
class go_regexp {
  public:
    /// Compiles `expression`, or returns nothing where Go's regexp.Compile reports an error.
    /// NOTE: `\p{...}` Unicode classes and `\Q...\E` are rejected, which Go accepts.
    static std::optional<go_regexp> compile(std::string_view expression);

    /// Whether the expression matches `text` starting at its first byte.
    [[nodiscard]] bool matches_at_start(std::string_view text) const;

    struct range {
        char32_t low;
        char32_t high;
    };
    struct instruction {
        enum class opcode { rune_class, any_but_newline, split, jump, assert, match } op;
        std::vector<range> ranges;  // rune_class: the code points it accepts
        int next = 0;               // split: preferred branch; jump: target
        int alternative = 0;        // split: other branch
        char assertion = 0;         // assert: '^' begin, '$' end, 'b' boundary, 'B' not
    };

  private:
    std::vector<instruction> program_;
};

}  // namespace dockwright::detail
