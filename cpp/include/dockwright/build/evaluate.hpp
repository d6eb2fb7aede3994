// Evaluating a Dockerfile: the final config and history of every stage, nothing executed.
#pragma once

#include <dockwright/build/build_options.hpp>
#include <dockwright/build/build_result.hpp>
#include <dockwright/build/evaluation_backend.hpp>
#include <string_view>

namespace dockwright {

/// Parses, checks and evaluates `dockerfile_text` with the evaluation backend. Base images
/// come from `lookup`; COPY and ADD hash sources in `options.context`. Throws the parser's
/// errors, dockerfile_instruction_error and build_step_error; classic_error_text() gives
/// the line Docker's CLI would end with.
build_result evaluate(std::string_view dockerfile_text, const build_options& options,
                      image_lookup lookup = {}, build_event_sink sink = {});

}  // namespace dockwright
