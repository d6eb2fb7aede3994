// Helpers of the builder that do not depend on the backend: step counting, target and
// `--label` handling, stage lookup, paths, the RUN command line and its `|N` prefix.
#pragma once

#include <dockwright/build/build_args.hpp>
#include <dockwright/build/build_options.hpp>
#include <dockwright/build/build_result.hpp>
#include <dockwright/build/stage_state.hpp>
#include <dockwright/dockerfile/instructions.hpp>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace dockwright {

/// The hash written for COPY --from sources that an evaluation cannot see.
inline constexpr std::string_view unknown_source_hash =
    "unknown:0000000000000000000000000000000000000000000000000000000000000000";

/// The upper-case keyword of an instruction type.
template <class Inst>
constexpr std::string_view keyword_of(const Inst&) {
    if constexpr (std::is_same_v<Inst, run_instruction>)
        return "RUN";
    else if constexpr (std::is_same_v<Inst, cmd_instruction>)
        return "CMD";
    else if constexpr (std::is_same_v<Inst, entrypoint_instruction>)
        return "ENTRYPOINT";
    else if constexpr (std::is_same_v<Inst, env_instruction>)
        return "ENV";
    else if constexpr (std::is_same_v<Inst, label_instruction>)
        return "LABEL";
    else if constexpr (std::is_same_v<Inst, maintainer_instruction>)
        return "MAINTAINER";
    else if constexpr (std::is_same_v<Inst, expose_instruction>)
        return "EXPOSE";
    else if constexpr (std::is_same_v<Inst, add_instruction>)
        return "ADD";
    else if constexpr (std::is_same_v<Inst, copy_instruction>)
        return "COPY";
    else if constexpr (std::is_same_v<Inst, workdir_instruction>)
        return "WORKDIR";
    else if constexpr (std::is_same_v<Inst, user_instruction>)
        return "USER";
    else if constexpr (std::is_same_v<Inst, volume_instruction>)
        return "VOLUME";
    else if constexpr (std::is_same_v<Inst, arg_instruction>)
        return "ARG";
    else if constexpr (std::is_same_v<Inst, onbuild_instruction>)
        return "ONBUILD";
    else if constexpr (std::is_same_v<Inst, stopsignal_instruction>)
        return "STOPSIGNAL";
    else if constexpr (std::is_same_v<Inst, healthcheck_instruction>)
        return "HEALTHCHECK";
    else if constexpr (std::is_same_v<Inst, shell_instruction>)
        return "SHELL";
    else
        return "FROM";
}

/// Joins words with single spaces, as Docker joins a Cmd into `created_by`.
std::string join(const std::vector<std::string>& words);

/// Cuts the stages after `--target` and appends one LABEL per `--label`, sorted by key, to
/// the last stage. Returns the number of label steps added. Throws build_step_error
/// `failed to reach build target <t> in Dockerfile` for an unknown target.
std::size_t prepare_stages(dockerfile& file, const build_options& options);

/// The M of `Step N/M`: the ARGs before FROM plus every stage's FROM and instructions.
int count_steps(const dockerfile& file);

/// The stage named `name` (case-insensitive), or with that index when `allow_index`.
const stage_result* find_stage(const build_result& done, std::string_view name, bool allow_index);

/// The working directory after `WORKDIR requested`: relative to `current`, cleaned.
std::string resolve_workdir(std::string_view current, std::string_view requested);

/// A COPY destination resolved against the working directory, keeping a trailing slash.
std::string resolve_copy_destination(std::string_view workdir, std::string_view destination);

/// RUN's command line: the shell plus the text in shell form, the words in exec form.
std::vector<std::string> run_argv(const stage_state& state, const run_instruction& inst);

/// `|N K=V ... argv`: the build args in scope that go into history, sorted.
std::vector<std::string> prefix_build_args(const build_args& args,
                                           const std::vector<std::string>& in_scope,
                                           const std::vector<std::string>& argv);

/// Parses and checks an ONBUILD trigger as Docker does when a child build runs it.
instruction parse_trigger(const std::string& trigger, const build_options& options);

}  // namespace dockwright
