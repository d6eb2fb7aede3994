// The dispatchers of the instructions that change only the image config. Each applies its
// instruction to the stage and returns the comment Docker commits it with, e.g. `ENV A=1`;
// the builder turns that into `/bin/sh -c #(nop)  ENV A=1`.
#pragma once

#include <dockwright/build/stage_state.hpp>
#include <dockwright/dockerfile/instructions.hpp>
#include <string>

namespace dockwright {

std::string dispatch_env(stage_state& state, const env_instruction& inst,
                         const word_expander& expand);
/// `expand` is false for the labels of `--label`, which Docker does not expand.
std::string dispatch_label(stage_state& state, const label_instruction& inst,
                           const word_expander& expand, bool expand_words = true);
std::string dispatch_maintainer(stage_state& state, const maintainer_instruction& inst);
std::string dispatch_cmd(stage_state& state, const cmd_instruction& inst);
std::string dispatch_entrypoint(stage_state& state, const entrypoint_instruction& inst);
std::string dispatch_user(stage_state& state, const user_instruction& inst,
                          const word_expander& expand);
/// Throws build_step_error with Docker's text for an invalid port or protocol.
std::string dispatch_expose(stage_state& state, const expose_instruction& inst,
                            const word_expander& expand);
std::string dispatch_volume(stage_state& state, const volume_instruction& inst,
                            const word_expander& expand);
/// Throws build_step_error `Invalid signal: <signal>` for an unknown signal.
std::string dispatch_stopsignal(stage_state& state, const stopsignal_instruction& inst,
                                const word_expander& expand);
std::string dispatch_healthcheck(stage_state& state, const healthcheck_instruction& inst);
std::string dispatch_shell(stage_state& state, const shell_instruction& inst);
std::string dispatch_onbuild(stage_state& state, const onbuild_instruction& inst);
std::string dispatch_arg(stage_state& state, const arg_instruction& inst,
                         const word_expander& expand);

/// Go's `%q` of a string slice: `["a" "b"]`.
std::string go_quoted_list(const std::vector<std::string>& words);
/// Go's `%v` of a string slice: `[a b]`.
std::string go_plain_list(const std::vector<std::string>& words);
/// Go's strconv.QuoteRune, as `%q` prints an int: `'\x04'`, `'A'`.
std::string go_quote_rune(std::int64_t rune);
/// Go's `%q` of Docker 20.10's *HealthConfig: `&{["CMD" "true"] "5s" "3s" "0s" '\x02'}`.
std::string go_quoted_health(const health_config& health);
/// Whether Docker 20.10's signal.ParseSignal accepts `signal` (`SIGINT`, `int`, `9`).
bool is_valid_signal(std::string_view signal);

}  // namespace dockwright
