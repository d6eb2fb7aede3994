// A parser and Pike VM for the regular expressions that .dockerignore patterns become, with the
// syntax and flags of Go's regexp.Compile (Perl flags: `.` stops at newline, negated classes
// match newline, `^` and `$` anchor the whole text).
#include "go_regexp.hpp"

#include <algorithm>
#include <dockwright/dockerfile/detail/utf8.hpp>
#include <optional>
#include <stdexcept>
#include <string>

namespace dockwright::detail {

namespace {

using range = go_regexp::range;
using instruction = go_regexp::instruction;
using opcode = go_regexp::instruction::opcode;

constexpr char32_t max_rune = 0x10FFFF;

/// Thrown inside the parser for any syntax Go rejects; compile() turns it into nothing.
struct syntax_error {};

std::vector<range> complement(std::vector<range> ranges) {
    std::sort(ranges.begin(), ranges.end(),
              [](const range& a, const range& b) { return a.low < b.low; });
    std::vector<range> result;
    char32_t next = 0;
    for (const range& r : ranges) {
        if (r.low > next) result.push_back({next, r.low - 1});
        if (r.high >= next) next = r.high + 1;
    }
    if (next <= max_rune) result.push_back({next, max_rune});
    return result;
}

bool contains(const std::vector<range>& ranges, char32_t rune) {
    return std::any_of(ranges.begin(), ranges.end(),
                       [&](const range& r) { return r.low <= rune && rune <= r.high; });
}

bool is_word_char(char32_t rune) {
    return rune == U'_' || (rune >= U'0' && rune <= U'9') || (rune >= U'a' && rune <= U'z') ||
           (rune >= U'A' && rune <= U'Z');
}

/// The ASCII classes of `[[:name:]]`, or nothing for an unknown name.
std::optional<std::vector<range>> posix_class(std::string_view name) {
    if (name == "alnum") return std::vector<range>{{'0', '9'}, {'A', 'Z'}, {'a', 'z'}};
    if (name == "alpha") return std::vector<range>{{'A', 'Z'}, {'a', 'z'}};
    if (name == "ascii") return std::vector<range>{{0, 0x7F}};
    if (name == "blank") return std::vector<range>{{'\t', '\t'}, {' ', ' '}};
    if (name == "cntrl") return std::vector<range>{{0, 0x1F}, {0x7F, 0x7F}};
    if (name == "digit") return std::vector<range>{{'0', '9'}};
    if (name == "graph") return std::vector<range>{{'!', '~'}};
    if (name == "lower") return std::vector<range>{{'a', 'z'}};
    if (name == "print") return std::vector<range>{{' ', '~'}};
    if (name == "punct") return std::vector<range>{{'!', '/'}, {':', '@'}, {'[', '`'}, {'{', '~'}};
    if (name == "space") return std::vector<range>{{'\t', '\r'}, {' ', ' '}};
    if (name == "upper") return std::vector<range>{{'A', 'Z'}};
    if (name == "word") return std::vector<range>{{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
    if (name == "xdigit") return std::vector<range>{{'0', '9'}, {'A', 'F'}, {'a', 'f'}};
    return std::nullopt;
}

/// The Perl classes `\d \s \w` and their negations, or nothing for another letter.
std::optional<std::vector<range>> perl_class(char32_t letter) {
    std::vector<range> ranges;
    switch (letter) {
        case U'd':
        case U'D':
            ranges = {{'0', '9'}};
            break;
        case U's':
        case U'S':
            ranges = {{'\t', '\n'}, {'\f', '\r'}, {' ', ' '}};
            break;
        case U'w':
        case U'W':
            ranges = *posix_class("word");
            break;
        default:
            return std::nullopt;
    }
    if (letter == U'D' || letter == U'S' || letter == U'W') return complement(ranges);
    return ranges;
}

int hex_value(char32_t rune) {
    if (rune >= U'0' && rune <= U'9') return static_cast<int>(rune - U'0');
    if (rune >= U'a' && rune <= U'f') return static_cast<int>(rune - U'a' + 10);
    if (rune >= U'A' && rune <= U'F') return static_cast<int>(rune - U'A' + 10);
    return -1;
}

/// One parsed element: a set of code points, `.`, an assertion or a group, with a quantifier.
struct node {
    enum class kind { runes, any, assertion, group } type;
    std::vector<range> ranges;
    char assertion = 0;
    std::vector<node> children;
    char quantifier = 0;  // 0, '*', '+' or '?'

    static node of(kind type, std::vector<range> ranges = {}, char assertion = 0) {
        node item;
        item.type = type;
        item.ranges = std::move(ranges);
        item.assertion = assertion;
        return item;
    }
};

instruction make_instruction(opcode op, std::vector<range> ranges = {}, int next = 0,
                             int alternative = 0, char assertion = 0) {
    instruction item;
    item.op = op;
    item.ranges = std::move(ranges);
    item.next = next;
    item.alternative = alternative;
    item.assertion = assertion;
    return item;
}

class parser {
  public:
    explicit parser(std::string_view text) : text_(text) {}

    std::vector<node> parse_all() {
        std::vector<node> nodes = parse_sequence(false);
        if (!at_end()) throw syntax_error{};
        return nodes;
    }

  private:
    [[nodiscard]] bool at_end() const { return position_ >= text_.size(); }

    [[nodiscard]] char32_t peek() const {
        return at_end() ? 0 : decode_rune(text_.substr(position_)).value;
    }

    char32_t next() {
        if (at_end()) throw syntax_error{};
        const decoded_rune rune = decode_rune(text_.substr(position_));
        position_ += rune.width;
        return rune.value;
    }

    std::vector<node> parse_sequence(bool in_group) {
        std::vector<node> nodes;
        while (!at_end()) {
            const char32_t rune = peek();
            if (rune == U')') {
                if (!in_group) throw syntax_error{};
                return nodes;
            }
            if (rune == U'*' || rune == U'+' || rune == U'?') {
                next();
                apply_quantifier(nodes, static_cast<char>(rune));
                continue;
            }
            nodes.push_back(parse_atom());
        }
        if (in_group) throw syntax_error{};  // missing `)`
        return nodes;
    }

    void apply_quantifier(std::vector<node>& nodes, char quantifier) {
        if (nodes.empty()) throw syntax_error{};  // missing argument to repetition operator
        node& last = nodes.back();
        if (last.quantifier != 0) {
            // `x*?` is a lazy repetition, which matches the same texts; `x**` is an error.
            if (quantifier != '?' || last_was_lazy_) throw syntax_error{};
            last_was_lazy_ = true;
            return;
        }
        last.quantifier = quantifier;
        last_was_lazy_ = false;
    }

    node parse_atom() {
        last_was_lazy_ = false;
        const char32_t rune = next();
        switch (rune) {
            case U'(': {
                if (peek() == U'?') throw syntax_error{};  // flags and named groups
                node group = node::of(node::kind::group);
                group.children = parse_sequence(true);
                next();  // `)`
                return group;
            }
            case U'|':
                throw syntax_error{};  // alternation never comes out of a pattern
            case U'[':
                return node::of(node::kind::runes, parse_class());
            case U'.':
                return node::of(node::kind::any);
            case U'^':
                return node::of(node::kind::assertion, {}, '^');
            case U'$':
                return node::of(node::kind::assertion, {}, '$');
            case U'\\':
                return parse_escape_atom();
            default:
                return node::of(node::kind::runes, {{rune, rune}});
        }
    }

    node parse_escape_atom() {
        const char32_t letter = peek();
        switch (letter) {
            case U'A':
                next();
                return node::of(node::kind::assertion, {}, '^');
            case U'z':
                next();
                return node::of(node::kind::assertion, {}, '$');
            case U'b':
                next();
                return node::of(node::kind::assertion, {}, 'b');
            case U'B':
                next();
                return node::of(node::kind::assertion, {}, 'B');
            default:
                break;
        }
        if (auto ranges = perl_class(letter)) {
            next();
            return node::of(node::kind::runes, std::move(*ranges));
        }
        const char32_t rune = parse_escape();
        return node::of(node::kind::runes, {{rune, rune}});
    }

    /// Reads the escape after a backslash that stands for one code point.
    char32_t parse_escape() {
        const char32_t rune = next();
        if (rune < 0x80 && !is_word_char(rune)) return rune;
        switch (rune) {
            case U'a':
                return 7;
            case U'f':
                return 12;
            case U'n':
                return 10;
            case U'r':
                return 13;
            case U't':
                return 9;
            case U'v':
                return 11;
            case U'x':
                return parse_hex_escape();
            default:
                break;
        }
        const bool octal_follows = peek() >= U'0' && peek() <= U'7';
        if (rune == U'0' || (rune >= U'1' && rune <= U'7' && octal_follows)) {
            char32_t value = rune - U'0';
            for (int i = 1; i < 3 && peek() >= U'0' && peek() <= U'7'; ++i) {
                value = value * 8 + (next() - U'0');
            }
            return value;
        }
        throw syntax_error{};  // invalid escape, including \p, \Q and \C
    }

    char32_t parse_hex_escape() {
        const char32_t first = next();
        if (first != U'{') {
            const int high = hex_value(first);
            const int low = hex_value(next());
            if (high < 0 || low < 0) throw syntax_error{};
            return static_cast<char32_t>(high * 16 + low);
        }
        char32_t value = 0;
        int digits = 0;
        for (char32_t rune = next(); rune != U'}'; rune = next()) {
            const int digit = hex_value(rune);
            if (digit < 0) throw syntax_error{};
            value = value * 16 + static_cast<char32_t>(digit);
            if (value > max_rune) throw syntax_error{};
            ++digits;
        }
        if (digits == 0) throw syntax_error{};
        return value;
    }

    /// Parses a class after its `[`, returning the code points it accepts.
    std::vector<range> parse_class() {
        const bool negated = peek() == U'^';
        if (negated) next();
        std::vector<range> ranges;
        bool first = true;
        while (first || peek() != U']' || at_end()) {
            first = false;
            if (at_end()) throw syntax_error{};  // missing closing ]
            if (parse_named_class(ranges)) continue;
            if (text_.substr(position_).starts_with("\\")) {
                const std::size_t saved = position_;
                next();
                if (auto perl = perl_class(peek())) {
                    next();
                    ranges.insert(ranges.end(), perl->begin(), perl->end());
                    continue;
                }
                position_ = saved;
            }
            const char32_t low = parse_class_char();
            char32_t high = low;
            const std::string_view rest = text_.substr(position_);
            if (rest.size() >= 2 && rest[0] == '-' && rest[1] != ']') {
                next();
                high = parse_class_char();
                if (high < low) throw syntax_error{};  // invalid character class range
            }
            ranges.push_back({low, high});
        }
        next();  // `]`
        return negated ? complement(std::move(ranges)) : ranges;
    }

    bool parse_named_class(std::vector<range>& ranges) {
        const std::string_view rest = text_.substr(position_);
        if (rest.size() <= 2 || !rest.starts_with("[:")) return false;
        const std::size_t close = rest.find(":]", 2);
        if (close == std::string_view::npos) return false;
        std::string_view name = rest.substr(2, close - 2);
        const bool negated = name.starts_with("^");
        if (negated) name.remove_prefix(1);
        auto named = posix_class(name);
        if (!named) throw syntax_error{};  // invalid character class range
        if (negated) named = complement(std::move(*named));
        ranges.insert(ranges.end(), named->begin(), named->end());
        position_ += close + 2;
        return true;
    }

    char32_t parse_class_char() {
        const char32_t rune = next();
        return rune == U'\\' ? parse_escape() : rune;
    }

    std::string_view text_;
    std::size_t position_ = 0;
    bool last_was_lazy_ = false;
};

void emit(std::vector<instruction>& program, const std::vector<node>& nodes);

void emit_once(std::vector<instruction>& program, const node& item) {
    switch (item.type) {
        case node::kind::runes:
            program.push_back(make_instruction(opcode::rune_class, item.ranges));
            break;
        case node::kind::any:
            program.push_back(make_instruction(opcode::any_but_newline));
            break;
        case node::kind::assertion:
            program.push_back(make_instruction(opcode::assert, {}, 0, 0, item.assertion));
            break;
        case node::kind::group:
            emit(program, item.children);
            break;
    }
}

void emit(std::vector<instruction>& program, const std::vector<node>& nodes) {
    for (const node& item : nodes) {
        const int start = static_cast<int>(program.size());
        switch (item.quantifier) {
            case '*':
            case '?': {
                program.push_back(make_instruction(opcode::split));
                emit_once(program, item);
                if (item.quantifier == '*')
                    program.push_back(make_instruction(opcode::jump, {}, start));
                const int after = static_cast<int>(program.size());
                program[static_cast<std::size_t>(start)].next = start + 1;
                program[static_cast<std::size_t>(start)].alternative = after;
                break;
            }
            case '+':
                emit_once(program, item);
                program.push_back(make_instruction(opcode::split, {}, start,
                                                   static_cast<int>(program.size()) + 1));
                break;
            default:
                emit_once(program, item);
        }
    }
}

}  // namespace

std::optional<go_regexp> go_regexp::compile(std::string_view expression) {
    try {
        const std::vector<node> nodes = parser(expression).parse_all();
        go_regexp compiled;
        emit(compiled.program_, nodes);
        compiled.program_.push_back(make_instruction(opcode::match));
        return compiled;
    } catch (const syntax_error&) {
        return std::nullopt;
    }
}

bool go_regexp::matches_at_start(std::string_view text) const {
    std::vector<char32_t> runes;
    for (std::string_view rest = text; !rest.empty();) {
        const decoded_rune rune = decode_rune(rest);
        runes.push_back(rune.value);
        rest.remove_prefix(rune.width);
    }

    const std::size_t size = program_.size();
    std::vector<int> current;
    std::vector<int> following;
    std::vector<std::size_t> seen(size, static_cast<std::size_t>(-1));
    bool matched = false;

    // Adds the thread at `pc` and everything reachable from it without reading, at position i.
    auto add = [&](auto& self, std::vector<int>& list, int pc, std::size_t i) -> void {
        const auto index = static_cast<std::size_t>(pc);
        if (seen[index] == i) return;
        seen[index] = i;
        const instruction& op = program_[index];
        switch (op.op) {
            case opcode::jump:
                self(self, list, op.next, i);
                return;
            case opcode::split:
                self(self, list, op.next, i);
                self(self, list, op.alternative, i);
                return;
            case opcode::assert: {
                const bool before = i > 0 && is_word_char(runes[i - 1]);
                const bool after = i < runes.size() && is_word_char(runes[i]);
                const bool holds = (op.assertion == '^' && i == 0) ||
                                   (op.assertion == '$' && i == runes.size()) ||
                                   (op.assertion == 'b' && before != after) ||
                                   (op.assertion == 'B' && before == after);
                if (holds) self(self, list, pc + 1, i);
                return;
            }
            case opcode::match:
                matched = true;
                return;
            default:
                list.push_back(pc);
        }
    };

    add(add, current, 0, 0);
    for (std::size_t i = 0; i < runes.size() && !matched && !current.empty(); ++i) {
        following.clear();
        for (int pc : current) {
            const instruction& op = program_[static_cast<std::size_t>(pc)];
            const bool accepts = op.op == opcode::any_but_newline ? runes[i] != U'\n'
                                                                  : contains(op.ranges, runes[i]);
            if (accepts) add(add, following, pc + 1, i + 1);
        }
        std::swap(current, following);
    }
    return matched;
}

}  // namespace dockwright::detail
