// The state of one build stage while its instructions are dispatched (Docker's
// dispatchState), and word expansion against it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

// shell_lexer.hpp first: its parameter named `instruction` would shadow the type alias.
#include <dockwright/dockerfile/shell_lexer.hpp>
// (the other includes)
#include <dockwright/build/build_args.hpp>
#include <dockwright/core/digest.hpp>
#include <dockwright/core/error.hpp>
#include <dockwright/dockerfile/instructions.hpp>
#include <dockwright/image/image.hpp>

namespace dockwright {

/// The PATH the classic builder adds when the base config has none.
inline constexpr std::string_view default_path_env =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The stage being built: the last committed image and the config the next step starts from.
struct stage_state {
    std::string name;                ///< Lower-cased `AS` name, empty when absent.
    std::optional<digest> image_id;  ///< The current image; nothing after FROM scratch.
    image current;                   ///< The current image document.
    config run_config;               ///< The config the next commit writes.
    std::string maintainer;          ///< MAINTAINER of this stage (not inherited).
    bool cmd_set = false;            ///< A CMD with arguments ran in this stage.
    build_args args;                 ///< This stage's view of the build args.
    /// Names of the ARGs declared in this stage, in order, repeated when declared again.
    std::vector<std::string> declared;

    /// The shell for shell-form commands: the config's SHELL or `/bin/sh -c`.
    [[nodiscard]] std::vector<std::string> shell() const {
        if (run_config.shell && !run_config.shell->empty()) return *run_config.shell;
        return {"/bin/sh", "-c"};
    }

    /// The variables words are expanded against: Env, then the allowed build args that Env
    /// does not define.
    [[nodiscard]] std::vector<std::string> expansion_env() const {
        std::vector<std::string> env = run_config.env.value_or(std::vector<std::string>{});
        for (std::string& extra : args.filter_allowed(env))
            env.push_back(std::move(extra));
        return env;
    }
};

/// Expands the words of one instruction and reports failures at its location.
class word_expander {
  public:
    word_expander(const shell_lexer& lexer, std::vector<std::string> env, source_location where,
                  std::string keyword)
        : lexer_(lexer), env_(env), where_(std::move(where)), instruction_(std::move(keyword)) {}

    [[nodiscard]] std::string word(std::string_view text) const {
        try {
            return lexer_.expand(text, env_);
        } catch (const expansion_error& e) {
            throw with_location(e, where_, instruction_);
        }
    }

    [[nodiscard]] std::vector<std::string> words(std::string_view text) const {
        try {
            return lexer_.expand_words(text, env_);
        } catch (const expansion_error& e) {
            throw with_location(e, where_, instruction_);
        }
    }

  private:
    const shell_lexer& lexer_;
    shell_environment env_;
    source_location where_;
    std::string instruction_;
};

}  // namespace dockwright
