// Typed instructions: the syntax tree checked and converted into one struct per instruction,
// grouped into build stages.
#pragma once

#include <chrono>
#include <dockwright/core/error.hpp>
#include <dockwright/dockerfile/ast.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace dockwright {

/// The source lines and text of an instruction. Every instruction struct starts with these
/// fields.
struct instruction_source {
    int start_line = 0;
    int end_line = 0;
    std::string original;  ///< The logical line, continuations joined.

    friend bool operator==(const instruction_source&, const instruction_source&) = default;
};

/// One `key=value` or legacy `key value` pair of ENV or LABEL, quotes still in place.
struct key_value {
    std::string key;
    std::string value;

    friend bool operator==(const key_value&, const key_value&) = default;
};

/// A command in shell form (one string, run through the SHELL) or exec form (a JSON array).
struct command_line {
    std::vector<std::string> words;
    bool shell_form = true;  ///< False for the JSON (exec) form.

    friend bool operator==(const command_line&, const command_line&) = default;
};

struct from_instruction : instruction_source {
    std::string base_name;   ///< The image reference as written, variables unexpanded.
    std::string stage_name;  ///< Lower-cased `AS` name, empty when absent.
    std::string platform;    ///< `--platform`, empty when absent.
};

struct run_instruction : instruction_source {
    command_line command;
    std::vector<std::string> mounts;  ///< Each `--mount` value, unparsed.
    std::string network;              ///< `--network`, empty when absent.
    std::string security;             ///< `--security`, empty when absent.
    std::vector<heredoc> heredocs;
};

struct cmd_instruction : instruction_source {
    command_line command;
};

struct entrypoint_instruction : instruction_source {
    command_line command;
};

struct env_instruction : instruction_source {
    std::vector<key_value> variables;
};

struct label_instruction : instruction_source {
    std::vector<key_value> labels;
};

struct maintainer_instruction : instruction_source {
    std::string maintainer;
};

struct expose_instruction : instruction_source {
    std::vector<std::string> ports;  ///< Sorted byte-wise, as Docker sorts them.
};

struct add_instruction : instruction_source {
    std::vector<std::string> sources;
    std::string destination;
    std::string chown;
    std::string chmod;
    std::string checksum;
    std::optional<bool> keep_git_dir;
    bool link = false;
    std::vector<std::string> excludes;
    bool json = false;  ///< Whether the paths came from a JSON array.
    std::vector<heredoc> heredocs;
};

struct copy_instruction : instruction_source {
    std::vector<std::string> sources;
    std::string destination;
    std::string from;
    std::string chown;
    std::string chmod;
    bool link = false;
    bool parents = false;
    std::vector<std::string> excludes;
    bool json = false;  ///< Whether the paths came from a JSON array.
    std::vector<heredoc> heredocs;
};

struct workdir_instruction : instruction_source {
    std::string path;
};

struct user_instruction : instruction_source {
    std::string user;
};

struct volume_instruction : instruction_source {
    std::vector<std::string> volumes;
};

/// One name of an ARG instruction, with its default value when one is given.
struct arg_definition {
    std::string name;
    std::optional<std::string> default_value;

    friend bool operator==(const arg_definition&, const arg_definition&) = default;
};

struct arg_instruction : instruction_source {
    std::vector<arg_definition> arguments;
};

struct onbuild_instruction : instruction_source {
    std::string expression;  ///< The trigger instruction's text, e.g. `RUN make`.
};

struct stopsignal_instruction : instruction_source {
    std::string signal;
};

struct healthcheck_instruction : instruction_source {
    /// `{"NONE"}`, `{"CMD-SHELL", command}` or `{"CMD", words...}`, as Docker stores it.
    std::vector<std::string> test;
    std::chrono::nanoseconds interval{0};
    std::chrono::nanoseconds timeout{0};
    std::chrono::nanoseconds start_period{0};
    std::chrono::nanoseconds start_interval{0};
    int retries = 0;
};

struct shell_instruction : instruction_source {
    std::vector<std::string> shell;
};

/// Any instruction except FROM, which starts a stage instead.
using instruction =
    std::variant<run_instruction, cmd_instruction, entrypoint_instruction, env_instruction,
                 label_instruction, maintainer_instruction, expose_instruction, add_instruction,
                 copy_instruction, workdir_instruction, user_instruction, volume_instruction,
                 arg_instruction, onbuild_instruction, stopsignal_instruction,
                 healthcheck_instruction, shell_instruction>;

/// A build stage: its FROM and the instructions up to the next FROM.
struct build_stage {
    from_instruction from;
    std::vector<instruction> instructions;
};

/// A checked Dockerfile: the ARGs before the first FROM, then the stages.
struct dockerfile {
    std::vector<arg_instruction> meta_args;
    std::vector<build_stage> stages;
    std::vector<parser_directive> directives;
    std::vector<parse_warning> warnings;
    char escape = '\\';
};

/// An instruction that the check rejects. Besides the fields of instruction_error it keeps
/// Docker 20.10's message, e.g. `dockerfile parse error line 3: unknown instruction: FOO`.
class dockerfile_instruction_error : public instruction_error {
  public:
    dockerfile_instruction_error(source_location where, std::string instruction, std::string reason,
                                 std::string value, std::string docker_message)
        : instruction_error(std::move(where), std::move(instruction), std::move(reason),
                            std::move(value)),
          docker_message_(std::move(docker_message)) {}

    /// The message of Docker 20.10's `instructions.Parse`.
    [[nodiscard]] const std::string& docker_message() const noexcept { return docker_message_; }

  private:
    std::string docker_message_;
};

/// Options of the instruction check.
struct instruction_options {
    std::string file = "Dockerfile";
    /// With `classic`, flags that Docker 20.10 does not know (`--link`, `--exclude`,
    /// `--parents`, `--checksum`, `--keep-git-dir`, `--start-interval`, `--network`,
    /// `--security`) are rejected.
    dockerfile_dialect dialect = dockerfile_dialect::buildkit;
};

/// Checks every node and groups the instructions into stages. Throws
/// dockerfile_instruction_error for an unknown instruction, an unknown, repeated or malformed
/// flag, a wrong number of arguments, an invalid stage name or healthcheck option, and an
/// instruction before the first FROM other than ARG.
dockerfile check_instructions(const dockerfile_ast& ast, const instruction_options& options = {});

/// Converts one node (not FROM) into its typed instruction, with the same checks.
instruction make_instruction(const ast_node& node, const instruction_options& options = {});

}  // namespace dockwright
