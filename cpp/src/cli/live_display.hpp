// The terminal display of `dockwright build`: the steps as a list redrawn in place, with
// timers, the running step's last output lines and progress bars for long work.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <dockwright/build/build_event.hpp>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dockwright::cli {

/// Draws build events on a terminal. Events only change the model, and a background thread
/// redraws at most every 100 ms, moving the cursor up over the previous frame and rewriting
/// each line in one write, so nothing is cleared first and nothing flickers. Lines are cut to
/// the terminal width so none wraps. When the frame is taller than the terminal, finished
/// steps at its top are printed for good and leave the redrawn part. Thread-safe: events may
/// come from the build thread and from pull threads.
class live_display {
  public:
    /// Draws on the terminal at `fd` (not owned). `color` adds SGR colours.
    explicit live_display(int fd, bool color = true);
    ~live_display();
    live_display(const live_display&) = delete;
    live_display& operator=(const live_display&) = delete;

    void on(const build_event& event);
    /// Shows `Sending build context` size in the header.
    void set_context_size(std::uint64_t bytes);
    /// Prints `text` (which may hold several lines) above the redrawn part.
    void print_above(const std::string& text);
    /// Stops the redraws and draws the final frame, in which a failed step shows its whole
    /// output. The frame stays on the terminal; later output goes below it.
    void finish(bool succeeded);

    /// Lines of a running RUN step's output that the frame shows.
    static constexpr std::size_t output_tail = 5;
    static constexpr std::chrono::milliseconds redraw_interval{100};

  private:
    enum class step_state { running, done, cached, failed };

    struct task_progress {
        build_progress progress;
        std::chrono::steady_clock::time_point started;
        std::chrono::steady_clock::duration elapsed{};  ///< Set once the task finished.
    };

    struct step_view {
        int number = 0;
        int total = 0;
        std::string instruction;
        step_state state = step_state::running;
        std::chrono::steady_clock::time_point started;
        std::chrono::steady_clock::duration elapsed{};
        std::vector<std::string> output;
        std::map<std::string, task_progress> tasks;
        std::string result;  ///< The short image ID once the step finished.
    };

    void run_ticker();
    void redraw(bool final);
    /// The lines of the next frame. `top_fixed` steps at its top, `fixed_lines` lines, are
    /// printed for good because the frame is taller than the terminal.
    [[nodiscard]] std::vector<std::string> frame_lines(bool final, std::size_t& top_fixed,
                                                       std::size_t& fixed_lines) const;
    void append_step(std::vector<std::string>& lines, const step_view& step, bool final) const;
    /// Adds the line of `task`, its name padded to `name_width` bytes.
    void append_task(std::vector<std::string>& lines, const task_progress& task,
                     const std::string& indent, std::size_t name_width = 8) const;
    /// Cuts `text` to the columns left after `used` ones, with `right` right-aligned.
    [[nodiscard]] std::string fit(const std::string& text, const std::string& right = {},
                                  std::size_t used = 0) const;
    [[nodiscard]] std::string paint(const std::string& text, const char* sgr) const;
    void write_all(const std::string& bytes) const;
    step_view* current_step();

    int fd_;
    bool color_;
    std::size_t width_ = 80;
    std::size_t height_ = 24;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point ended_{};
    std::uint64_t context_bytes_ = 0;
    bool have_context_size_ = false;
    std::vector<step_view> steps_;
    std::size_t fixed_steps_ = 0;  ///< Steps printed for good above the redrawn part.
    std::map<std::string, task_progress> global_tasks_;
    /// Tasks that ran after the first step outside any step (exports and pushes after the
    /// last step) and finished. Their full bars stay in the frame, the final one included.
    std::vector<task_progress> finished_tasks_;
    std::size_t live_lines_ = 0;  ///< Lines of the redrawn part on screen now.
    bool dirty_ = true;
    bool finished_ = false;
    bool succeeded_ = false;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stop_ = false;
    std::thread ticker_;
};

/// Formats a duration for the display: `0.4s`, `12.3s`, `2m05s`.
[[nodiscard]] std::string format_timer(std::chrono::steady_clock::duration elapsed);

/// Renders a progress bar of `width` cells (at least 1) for `current` of `total`.
[[nodiscard]] std::string progress_bar(std::uint64_t current, std::uint64_t total,
                                       std::size_t width);

/// Draws one task's progress on a terminal as one line, `<task> <bar>  <current> / <total>`,
/// in the live display's style, for commands without a live display (`dockwright save`).
/// The line is rewritten in place at most every live_display::redraw_interval. Not
/// thread-safe.
class progress_line {
  public:
    /// Draws on the terminal at `fd` (not owned). `color` adds SGR colours.
    progress_line(int fd, std::string task, bool color = true);
    ~progress_line();
    progress_line(const progress_line&) = delete;
    progress_line& operator=(const progress_line&) = delete;

    /// Sets the amount done and the total in bytes; redraws when the interval has passed.
    void update(std::uint64_t current, std::uint64_t total);
    /// Draws the last state with the elapsed time and ends the line. Later calls do nothing.
    void finish();

  private:
    void draw(bool final);

    int fd_;
    bool color_;
    build_progress progress_;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point drawn_{};
    bool finished_ = false;
};

}  // namespace dockwright::cli
