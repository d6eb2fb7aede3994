// Structured build events and the sink they are delivered to; the library never prints.
#pragma once

#include <chrono>
#include <cstdint>
#include <dockwright/core/digest.hpp>
#include <functional>
#include <optional>
#include <string>

namespace dockwright {

/// What a build event reports.
enum class build_event_kind : std::uint8_t {
    step_started,    ///< `Step N/M : <instruction>`.
    base,            ///< FROM resolved its base (`image_id`, empty for scratch).
    pulling,         ///< A base image is being pulled from its registry (`text`: the name).
    triggers,        ///< A base image's ONBUILD triggers are about to run (`count`).
    container,       ///< A container was created for the step (`container_id`).
    output,          ///< One line of a RUN step's output (`text`, `is_stderr`).
    cache,           ///< The cache was probed (`cache_hit`, `cache_reason`).
    not_executed,    ///< The step was evaluated but not run (evaluation backend).
    step_finished,   ///< The step committed `image_id` (layer digest and size when known).
    warning,         ///< A warning Docker prints, e.g. unconsumed build args (`text`).
    stage_finished,  ///< A stage ended with `image_id`.
};

/// One structured event of a build. Fields that do not apply to the kind stay empty.
struct build_event {
    build_event_kind kind = build_event_kind::step_started;
    int step = 0;             ///< 1-based step number, counted as Docker counts them.
    int total = 0;            ///< Number of steps Docker announces.
    std::string instruction;  ///< The instruction text as written (`original`).
    int line = 0;             ///< Dockerfile line of the instruction, 0 if none.
    std::string text;         ///< Output line or warning text, without the line feed.
    bool is_stderr = false;
    bool cache_hit = false;
    std::string cache_reason;  ///< Why the cache missed (or hit).
    std::string container_id;
    std::optional<digest> image_id;
    std::optional<digest> layer_digest;  ///< Diff ID of the step's layer when known.
    std::optional<std::int64_t> layer_size;
    std::chrono::nanoseconds duration{0};
    int count = 0;  ///< Number of triggers for `triggers`.
};

/// Receives build events; an empty function discards them.
using build_event_sink = std::function<void(const build_event&)>;

/// Delivers `event` to `sink` when one is set.
inline void emit(const build_event_sink& sink, const build_event& event) {
    if (sink) sink(event);
}

}  // namespace dockwright
