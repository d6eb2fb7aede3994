// Which Dockerfile instructions expand variables in which arguments, and against which
// variables, as Docker 20.10's classic builder (moby builder/dockerfile) does.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace dockwright {

/// The variables an instruction's words are expanded against.
enum class expansion_scope : std::uint8_t {
    /// Nothing is expanded; a `$` stays for the shell at run time, or is kept literally.
    none,
    /// The stage's ENV list as it is before the instruction, followed by the build
    /// arguments declared so far that have a value and whose names no ENV entry defines
    /// (Docker's BuildArgs.FilterAllowed).
    stage,
    /// Only the ARGs declared before the first FROM, with their build-arg overrides.
    meta_args,
};

/// The expansion rule of one instruction.
struct expansion_rule {
    /// Upper-case instruction keyword.
    std::string_view instruction;
    expansion_scope scope;
    /// Whether each word may expand into several (ProcessWords) instead of exactly one
    /// (ProcessWord). `EXPOSE $PORTS` with PORTS="80 443" exposes two ports.
    bool splits_words;
    /// The parts of the instruction that are expanded, for the reader.
    std::string_view expanded_parts;
};

/// The rules of Docker 20.10's classic builder, one entry per instruction keyword. Sources:
/// the `Expand` methods of BuildKit's instructions package (v0.8, vendored by Docker 20.10)
/// and moby's dispatchers (`dispatchExpose`, `getExpandedString` for FROM).
///
/// Notes on the entries:
/// - FROM expands the image reference and `--platform` with the meta args only; the stage
///   name after AS is never expanded.
/// - COPY expands `--chown` but not `--from`; ADD expands `--chown`.
/// - ARG expands its name and its default value with the stage scope, so `ARG B=$A` uses the
///   value of an earlier `ARG A`.
/// - ONBUILD stores its trigger unexpanded; the trigger is expanded when it runs, by its own
///   rule.
/// - RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK and MAINTAINER are never expanded by the builder.
inline constexpr std::array<expansion_rule, 18> expansion_rules{{
    {"ADD", expansion_scope::stage, false, "sources, destination, --chown"},
    {"ARG", expansion_scope::stage, false, "name, default value"},
    {"CMD", expansion_scope::none, false, ""},
    {"COPY", expansion_scope::stage, false, "sources, destination, --chown"},
    {"ENTRYPOINT", expansion_scope::none, false, ""},
    {"ENV", expansion_scope::stage, false, "keys, values"},
    {"EXPOSE", expansion_scope::stage, true, "ports"},
    {"FROM", expansion_scope::meta_args, false, "image reference, --platform"},
    {"HEALTHCHECK", expansion_scope::none, false, ""},
    {"LABEL", expansion_scope::stage, false, "keys, values"},
    {"MAINTAINER", expansion_scope::none, false, ""},
    {"ONBUILD", expansion_scope::none, false, ""},
    {"RUN", expansion_scope::none, false, ""},
    {"SHELL", expansion_scope::none, false, ""},
    {"STOPSIGNAL", expansion_scope::stage, false, "signal"},
    {"USER", expansion_scope::stage, false, "user"},
    {"VOLUME", expansion_scope::stage, false, "paths"},
    {"WORKDIR", expansion_scope::stage, false, "path"},
}};

/// The rule for an upper-case instruction keyword, or nothing for an unknown keyword.
constexpr std::optional<expansion_rule> find_expansion_rule(std::string_view instruction) {
    const auto found =
        std::find_if(expansion_rules.begin(), expansion_rules.end(),
                     [&](const expansion_rule& rule) { return rule.instruction == instruction; });
    if (found == expansion_rules.end()) return std::nullopt;
    return *found;
}

static_assert(std::is_sorted(expansion_rules.begin(), expansion_rules.end(),
                             [](const expansion_rule& a, const expansion_rule& b) {
                                 return a.instruction < b.instruction;
                             }));
static_assert(find_expansion_rule("EXPOSE")->splits_words);
static_assert(find_expansion_rule("RUN")->scope == expansion_scope::none);

}  // namespace dockwright
