// Structured build events and the sink they are delivered to; the library never prints.
#pragma once

#include <chrono>
#include <cstdint>
#include <dockwright/core/digest.hpp>
#include <functional>
#include <optional>
#include <string>
#include <utility>

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
    progress,        ///< A long task advanced (`progress`); `step` is 0 outside a step.
};

/// What a progress amount counts.
enum class progress_unit : std::uint8_t { bytes, items };

/// How far one long task has come: hashing the context, writing a layer, compressing it,
/// exporting the image or pulling a layer of a base image.
struct build_progress {
    std::string task;  ///< A short name such as `context` or `layer`.
    std::uint64_t current = 0;
    std::uint64_t total = 0;  ///< 0 when the total is unknown.
    progress_unit unit = progress_unit::bytes;
    bool finished = false;  ///< Set on the task's last event.
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
    int count = 0;            ///< Number of triggers for `triggers`.
    build_progress progress;  ///< Set for `progress`.
};

/// Receives build events; an empty function discards them.
using build_event_sink = std::function<void(const build_event&)>;

/// Delivers `event` to `sink` when one is set.
inline void emit(const build_event_sink& sink, const build_event& event) {
    if (sink) sink(event);
}

/// Sends the `progress` events of one task to a sink, at most one per `interval` besides the
/// first and the last, so callers may report every buffer they write. An empty sink costs
/// one branch per update.
class progress_reporter {
  public:
    progress_reporter(build_event_sink sink, std::string task, std::uint64_t total,
                      progress_unit unit = progress_unit::bytes,
                      std::chrono::milliseconds interval = std::chrono::milliseconds(100))
        : sink_(std::move(sink)), interval_(interval) {
        event_.kind = build_event_kind::progress;
        event_.progress.task = std::move(task);
        event_.progress.total = total;
        event_.progress.unit = unit;
        if (sink_) send();
    }
    progress_reporter(const progress_reporter&) = delete;
    progress_reporter& operator=(const progress_reporter&) = delete;
    /// Sends the last event unless finish() did.
    ~progress_reporter() { finish(); }

    /// Sets the amount done so far; sends an event when `interval` has passed since the last.
    void update(std::uint64_t current) {
        if (!sink_) return;
        event_.progress.current = current;
        if (std::chrono::steady_clock::now() - sent_ >= interval_) send();
    }
    /// Adds `amount` to the amount done.
    void add(std::uint64_t amount) { update(event_.progress.current + amount); }
    void set_total(std::uint64_t total) { event_.progress.total = total; }
    [[nodiscard]] std::uint64_t current() const noexcept { return event_.progress.current; }

    /// Sends the task's last event, once.
    void finish() noexcept {
        if (!sink_ || event_.progress.finished) return;
        event_.progress.finished = true;
        try {
            send();
        } catch (...) {  // NOLINT(bugprone-empty-catch): a display failure must not end a build
        }
    }

  private:
    void send() {
        sent_ = std::chrono::steady_clock::now();
        sink_(event_);
    }

    build_event_sink sink_;
    std::chrono::milliseconds interval_;
    std::chrono::steady_clock::time_point sent_{};
    build_event event_;
};

}  // namespace dockwright
