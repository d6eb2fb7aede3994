// libFuzzer target: word expansion. The whole input and each of its lines are expanded with
// both escape characters, in the default and the classic mode.
#include <cstddef>
#include <cstdint>
#include <dockwright/dockerfile/shell_lexer.hpp>
#include <string_view>

namespace {

const dockwright::shell_environment& fuzz_environment() {
    static const dockwright::shell_environment env{
        "PWD=/home",  "EMPTY=",        "SPACES=  a b  c ", "PATH=/usr/local/bin:/usr/bin:/bin",
        "GLOB=*?\\*", "KOREAN=한국어", "NL=x\ny"};
    return env;
}

void expand_everywhere(std::string_view word) {
    for (const char escape : {'\\', '`'}) {
        for (const bool pattern_operators : {true, false}) {
            const dockwright::shell_lexer lexer({escape, pattern_operators});
            try {
                (void)lexer.expand_with_matches(word, fuzz_environment());
            } catch (const dockwright::expansion_error&) {
                // Rejecting a word is a valid outcome; crashes, hangs and leaks are not.
            }
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    expand_everywhere(text);

    constexpr int max_lines = 256;
    std::string_view rest = text;
    for (int line = 0; line < max_lines && !rest.empty(); ++line) {
        const std::size_t newline = rest.find('\n');
        expand_everywhere(rest.substr(0, newline));
        if (newline == std::string_view::npos) break;
        rest.remove_prefix(newline + 1);
    }
    return 0;
}
