// The inputs of one build besides the Dockerfile: build args, target, labels, mode, context.
#pragma once

#include <dockwright/core/time.hpp>
#include <dockwright/dockerfile/ast.hpp>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace dockwright {

/// Which builder's configuration and history a build writes.
enum class history_style {
    /// Docker's classic builder: container_config, `/bin/sh -c #(nop) ` commands.
    classic,
    /// BuildKit: a minimal config, `RUN ... # buildkit` entries, no container_config.
    buildkit,
};

/// Settings of a build or an evaluation.
struct build_options {
    /// `--build-arg K=V`; a missing value (`--build-arg K`) takes K from the environment in
    /// Docker's CLI, which the caller resolves before building.
    std::map<std::string, std::string> build_args;
    /// `--target`: stop after this stage (matched case-insensitively); empty for the last.
    std::string target;
    /// `--label k=v`: each becomes a LABEL step appended to the target stage, sorted by key.
    std::map<std::string, std::string> labels;
    /// `--history-style`.
    history_style history = history_style::classic;
    /// `--no-cache`: never reuse an image from the build cache.
    bool no_cache = false;
    /// Docker 20.10's classic builder to the letter: its syntax, rejections and error texts.
    bool classic = false;
    /// The build context directory; empty when the build has no context.
    std::filesystem::path context;
    /// A file that keeps context file hashes between builds (see build_context_index); none
    /// when empty.
    std::filesystem::path hash_cache;
    /// The Dockerfile's name as error messages show it.
    std::string dockerfile_name = "Dockerfile";
    /// The `docker_version` written into each new image config.
    std::string docker_version = std::string("dockwright ") + DOCKWRIGHT_VERSION;
    /// A fixed creation time for every step (SOURCE_DATE_EPOCH); the clock when empty.
    std::optional<timestamp> created;
    std::string architecture = "amd64";
    std::string os = "linux";

    [[nodiscard]] dockerfile_dialect dialect() const noexcept {
        return classic ? dockerfile_dialect::classic : dockerfile_dialect::buildkit;
    }
};

}  // namespace dockwright
