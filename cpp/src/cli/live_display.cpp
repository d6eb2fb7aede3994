// The live terminal display of `dockwright build`.
#include "live_display.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <dockwright/core/utf8.hpp>
#include <optional>

#include "human_units.hpp"

namespace dockwright::cli {

namespace {

constexpr const char* sgr_red = "31";
constexpr const char* sgr_green = "32";
constexpr const char* sgr_cyan = "36";
constexpr const char* sgr_dim = "2";

/// Turns a RUN output line or an instruction into one printable line. Invalid UTF-8 becomes
/// U+FFFD, and only the text after the last carriage return stays, as a terminal shows it.
/// Tabs and line feeds become spaces. Other control characters, escape sequences included,
/// are dropped so that they cannot move the cursor.
std::string printable(std::string_view text) {
    if (const std::size_t cr = text.find_last_of('\r');
        cr != std::string_view::npos && cr + 1 < text.size()) {
        text.remove_prefix(cr + 1);
    }
    std::string out;
    out.reserve(text.size());
    bool last_space = false;
    while (!text.empty()) {
        const detail::decoded_rune rune = detail::decode_rune(text);
        text.remove_prefix(rune.width);
        if (rune.value == U'\t' || rune.value == U'\n' || rune.value == U'\r') {
            if (!last_space) out += ' ';
            last_space = true;
            continue;
        }
        if (rune.value < 0x20 || (rune.value >= 0x7f && rune.value < 0xa0)) continue;
        detail::append_rune(out, rune.value);
        last_space = rune.value == U' ';
    }
    return out;
}

/// Counts the terminal columns of `text` as one per code point.
// NOTE: East Asian wide characters take two columns but count as one here, so a line
// holding them may still wrap.
std::size_t columns(std::string_view text) {
    std::size_t count = 0;
    for (const char c : text)
        count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return count;
}

/// Returns the longest prefix of `text` that fits in `width` columns, cut at a code point
/// boundary and ending in `…` when something was cut.
std::string truncate(const std::string& text, std::size_t width) {
    if (columns(text) <= width) return text;
    if (width == 0) return {};
    std::size_t used = 0;
    std::size_t end = 0;
    while (end < text.size() && used + 1 < width) {
        ++end;
        while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
            ++end;
        ++used;
    }
    return text.substr(0, end) + "\u2026";
}

std::string amount(std::uint64_t value, progress_unit unit) {
    if (unit == progress_unit::items) return std::to_string(value);
    return human_size(static_cast<double>(value));
}

/// Formats the line of one task's progress for a terminal `width` columns wide, with the task
/// name padded to `name_width` bytes so that the bars of a group line up. `elapsed`, set for a
/// finished task, follows the numbers.
std::string task_line(const build_progress& p, const std::string& indent, std::size_t width,
                      bool color, std::size_t name_width = 8,
                      std::optional<std::chrono::steady_clock::duration> elapsed = std::nullopt) {
    std::string label = indent + p.task;
    if (label.size() < indent.size() + name_width) label.resize(indent.size() + name_width, ' ');
    // The last column stays empty because some terminals wrap as soon as it is written.
    const std::size_t usable = width > 1 ? width - 1 : 1;
    std::string numbers = amount(p.current, p.unit);
    if (p.total != 0) numbers += " / " + amount(p.total, p.unit);
    if (elapsed) numbers += "  " + format_timer(*elapsed);
    if (p.total == 0) return truncate(label + " " + numbers, usable);
    const std::size_t fixed = columns(label) + columns(numbers) + 4;
    const std::size_t bar_width =
        usable > fixed + 4 ? std::min<std::size_t>(usable - fixed, 40) : 0;
    if (bar_width == 0) return truncate(label + " " + numbers, usable);
    std::string bar = progress_bar(p.current, p.total, bar_width);
    if (color) bar = std::string("\x1b[") + sgr_cyan + "m" + bar + "\x1b[0m";
    return label + " " + bar + "  " + numbers;
}

}  // namespace

std::string format_timer(std::chrono::steady_clock::duration elapsed) {
    const double seconds = std::chrono::duration<double>(elapsed).count();
    char text[32];
    if (seconds < 60) {
        std::snprintf(text, sizeof text, "%.1fs", seconds);
    } else {
        const int whole = static_cast<int>(seconds);
        std::snprintf(text, sizeof text, "%dm%02ds", whole / 60, whole % 60);
    }
    return text;
}

std::string progress_bar(std::uint64_t current, std::uint64_t total, std::size_t width) {
    width = std::max<std::size_t>(width, 1);
    const double share =
        total == 0 ? 0.0 : std::min(1.0, static_cast<double>(current) / static_cast<double>(total));
    const auto filled = static_cast<std::size_t>(share * static_cast<double>(width) + 0.5);
    std::string out;
    for (std::size_t i = 0; i < width; ++i)
        out += i < filled ? "\u2588" : "\u2591";
    return out;
}

live_display::live_display(int fd, bool color) : fd_(fd), color_(color) {
    ticker_ = std::thread([this] { run_ticker(); });
}

live_display::~live_display() {
    {
        const std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    if (ticker_.joinable()) ticker_.join();
    if (!finished_) write_all("\x1b[?25h");
}

void live_display::run_ticker() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
        wake_.wait_for(lock, redraw_interval);
        if (stop_) break;
        // A running step's timer changes every tenth of a second, so a frame is due then too.
        const bool running = !steps_.empty() && steps_.back().state == step_state::running;
        if (dirty_ || running || !global_tasks_.empty()) redraw(false);
    }
}

live_display::step_view* live_display::current_step() {
    if (steps_.empty() || steps_.back().state != step_state::running) return nullptr;
    return &steps_.back();
}

void live_display::on(const build_event& event) {
    const std::lock_guard lock(mutex_);
    if (finished_) return;
    const auto now = std::chrono::steady_clock::now();
    dirty_ = true;
    switch (event.kind) {
        case build_event_kind::step_started: {
            if (step_view* previous = current_step()) {
                previous->state = step_state::done;
                previous->elapsed = now - previous->started;
            }
            step_view step;
            step.number = event.step;
            step.total = event.total;
            step.instruction = printable(event.instruction);
            step.started = now;
            steps_.push_back(std::move(step));
            break;
        }
        case build_event_kind::output:
            if (step_view* step = current_step()) step->output.push_back(printable(event.text));
            break;
        case build_event_kind::pulling:
            if (step_view* step = current_step()) step->output.push_back("pulling " + event.text);
            break;
        case build_event_kind::step_finished:
        case build_event_kind::base:
            if (step_view* step = current_step()) {
                step->state = event.cache_hit ? step_state::cached : step_state::done;
                step->elapsed = now - step->started;
                step->tasks.clear();
                if (event.image_id) step->result = std::string(event.image_id->hex().substr(0, 12));
            }
            break;
        case build_event_kind::progress: {
            step_view* step = current_step();
            auto& tasks = step ? step->tasks : global_tasks_;
            if (event.progress.finished && !step) {
                const auto found = tasks.find(event.progress.task);
                // Work before the first step (the context scan) leaves the frame when it
                // ends; work after the steps (exports, pushes) stays as a finished bar.
                if (!steps_.empty()) {
                    task_progress done;
                    done.started = found != tasks.end() ? found->second.started : now;
                    done.elapsed = now - done.started;
                    done.progress = event.progress;
                    finished_tasks_.push_back(std::move(done));
                }
                if (found != tasks.end()) tasks.erase(found);
                break;
            }
            auto [found, inserted] = tasks.try_emplace(event.progress.task);
            if (inserted) found->second.started = now;
            found->second.progress = event.progress;
            break;
        }
        case build_event_kind::warning:
        case build_event_kind::triggers:
        case build_event_kind::container:
        case build_event_kind::cache:
        case build_event_kind::not_executed:
        case build_event_kind::stage_finished:
            break;
    }
}

void live_display::set_context_size(std::uint64_t bytes) {
    const std::lock_guard lock(mutex_);
    context_bytes_ = bytes;
    have_context_size_ = true;
    dirty_ = true;
}

void live_display::print_above(const std::string& text) {
    const std::lock_guard lock(mutex_);
    std::string out;
    if (live_lines_ > 0) out += "\r\x1b[" + std::to_string(live_lines_) + "A";
    out += "\x1b[J";
    std::string rest = text;
    while (!rest.empty()) {
        const std::size_t end = rest.find('\n');
        out += printable(rest.substr(0, end)) + "\n";
        rest = end == std::string::npos ? std::string() : rest.substr(end + 1);
    }
    write_all(out);
    live_lines_ = 0;
    dirty_ = true;
    if (!finished_) redraw(false);
}

void live_display::finish(bool succeeded) {
    {
        const std::lock_guard lock(mutex_);
        if (finished_) return;
        const auto now = std::chrono::steady_clock::now();
        if (step_view* step = current_step()) {
            step->state = succeeded ? step_state::done : step_state::failed;
            step->elapsed = now - step->started;
        }
        succeeded_ = succeeded;
        ended_ = now;
        global_tasks_.clear();
        redraw(true);
        live_lines_ = 0;  // the final frame stays, so nothing moves the cursor over it again
        finished_ = true;
        stop_ = true;
    }
    wake_.notify_all();
    if (ticker_.joinable()) ticker_.join();
}

std::string live_display::paint(const std::string& text, const char* sgr) const {
    if (!color_ || text.empty()) return text;
    return std::string("\x1b[") + sgr + "m" + text + "\x1b[0m";
}

std::string live_display::fit(const std::string& text, const std::string& right,
                              std::size_t used) const {
    // The last column stays empty because some terminals wrap as soon as it is written.
    const std::size_t usable = width_ > used + 1 ? width_ - used - 1 : 1;
    if (right.empty()) return truncate(text, usable);
    const std::size_t right_width = columns(right);
    if (right_width + 2 > usable) return truncate(text, usable);
    const std::string left = truncate(text, usable - right_width - 1);
    return left + std::string(usable - right_width - columns(left), ' ') + right;
}

void live_display::append_task(std::vector<std::string>& lines, const task_progress& task,
                               const std::string& indent, std::size_t name_width) const {
    std::optional<std::chrono::steady_clock::duration> elapsed;
    if (task.progress.finished) elapsed = task.elapsed;
    lines.push_back(task_line(task.progress, indent, width_, color_, name_width, elapsed));
}

void live_display::append_step(std::vector<std::string>& lines, const step_view& step,
                               bool final) const {
    const auto now = std::chrono::steady_clock::now();
    const auto elapsed = step.state == step_state::running ? now - step.started : step.elapsed;
    std::string status;
    const char* mark_sgr = sgr_green;
    std::string mark = "\u2714";  // check mark
    switch (step.state) {
        case step_state::running:
            mark = "\u25b6";  // right-pointing triangle
            mark_sgr = sgr_cyan;
            break;
        case step_state::done:
            status = step.result.empty() ? "" : step.result + "  ";
            break;
        case step_state::cached:
            status = "cached  ";
            break;
        case step_state::failed:
            mark = "\u2718";  // heavy ballot X
            mark_sgr = sgr_red;
            status = "failed  ";
            break;
    }
    const std::string head = "[" + std::to_string(step.number) + "/" + std::to_string(step.total) +
                             "] " + step.instruction;
    // The mark and a space take the first two columns.
    lines.push_back(paint(mark, mark_sgr) + " " + fit(head, status + format_timer(elapsed), 2));

    const std::string indent = "    ";
    const bool show_output = step.state == step_state::running || step.state == step_state::failed;
    if (show_output && !step.output.empty()) {
        // A failed step shows all its output in the final frame, a running one its last lines.
        const bool everything = final && step.state == step_state::failed;
        const std::size_t first =
            everything || step.output.size() <= output_tail ? 0 : step.output.size() - output_tail;
        for (std::size_t i = first; i < step.output.size(); ++i) {
            const std::string line = fit(indent + "\u2502 " + step.output[i]);
            lines.push_back(step.state == step_state::failed ? line : paint(line, sgr_dim));
        }
    }
    if (step.state == step_state::running) {
        for (const auto& [name, task] : step.tasks)
            append_task(lines, task, indent);
    }
}

std::vector<std::string> live_display::frame_lines(bool final, std::size_t& top_fixed,
                                                   std::size_t& fixed_lines) const {
    // The lines are kept per step so that whole steps can leave the top of the frame.
    std::vector<std::vector<std::string>> per_step;
    for (std::size_t i = fixed_steps_; i < steps_.size(); ++i) {
        std::vector<std::string> lines;
        append_step(lines, steps_[i], final);
        per_step.push_back(std::move(lines));
    }
    std::vector<std::string> tail;
    std::size_t name_width = 8;
    for (const task_progress& task : finished_tasks_)
        name_width = std::max(name_width, task.progress.task.size());
    for (const auto& [name, task] : global_tasks_)
        name_width = std::max(name_width, name.size());
    for (const task_progress& task : finished_tasks_)
        append_task(tail, task, "  ", name_width);
    for (const auto& [name, task] : global_tasks_)
        append_task(tail, task, "  ", name_width);
    const auto now = std::chrono::steady_clock::now();
    std::string status;
    int done = 0;
    for (const step_view& step : steps_)
        done += step.state == step_state::done || step.state == step_state::cached;
    const int total = steps_.empty() ? 0 : steps_.back().total;
    if (!final) {
        status = "Building " + format_timer(now - started_);
    } else if (succeeded_) {
        status = "Built in " + format_timer(ended_ - started_);
    } else {
        status = "Failed after " + format_timer(ended_ - started_);
    }
    if (total > 0) {
        status += "  (" + std::to_string(done) + "/" + std::to_string(total) + " steps)";
    }
    if (have_context_size_) {
        status += "  context " + human_size(static_cast<double>(context_bytes_));
    }
    tail.push_back(paint(fit(status), final && !succeeded_ ? sgr_red : sgr_dim));

    // Steps that no longer fit are printed once more and then stay above the redrawn part.
    std::size_t total_lines = tail.size();
    for (const auto& lines : per_step)
        total_lines += lines.size();
    const std::size_t max_live = height_ > 2 ? height_ - 1 : 1;
    top_fixed = 0;
    fixed_lines = 0;
    while (!final && total_lines > max_live && top_fixed < per_step.size() &&
           steps_[fixed_steps_ + top_fixed].state != step_state::running) {
        total_lines -= per_step[top_fixed].size();
        fixed_lines += per_step[top_fixed].size();
        ++top_fixed;
    }
    std::vector<std::string> out;
    for (const auto& lines : per_step)
        out.insert(out.end(), lines.begin(), lines.end());
    out.insert(out.end(), tail.begin(), tail.end());
    return out;
}

void live_display::redraw(bool final) {
    winsize size{};
    if (::ioctl(fd_, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
        width_ = size.ws_col;
        height_ = size.ws_row > 0 ? size.ws_row : 24;
    } else if (const char* env = std::getenv("COLUMNS"); env && std::atoi(env) > 0) {
        width_ = static_cast<std::size_t>(std::atoi(env));
    }
    std::size_t top_fixed = 0;
    std::size_t fixed_lines = 0;
    const std::vector<std::string> lines = frame_lines(final, top_fixed, fixed_lines);
    std::string out = live_lines_ == 0 ? "\x1b[?25l" : "";
    if (live_lines_ > 0) out += "\r\x1b[" + std::to_string(live_lines_) + "A";
    // NOTE: a live part still taller than the terminal (a running step with many progress
    // tasks on a very short terminal) scrolls, and the next frame then starts too low.
    for (const std::string& line : lines)
        out += line + "\x1b[K\n";
    out += "\x1b[J";
    if (final) out += "\x1b[?25h";
    write_all(out);
    fixed_steps_ += top_fixed;
    live_lines_ = lines.size() - fixed_lines;
    dirty_ = false;
}

void live_display::write_all(const std::string& bytes) const {
    std::size_t written = 0;
    while (written < bytes.size()) {
        const ssize_t n = ::write(fd_, bytes.data() + written, bytes.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // a closed terminal ends the display, not the build
        written += static_cast<std::size_t>(n);
    }
}

progress_line::progress_line(int fd, std::string task, bool color) : fd_(fd), color_(color) {
    progress_.task = std::move(task);
}

progress_line::~progress_line() {
    if (!finished_ && drawn_ != std::chrono::steady_clock::time_point{}) {
        // Ends the line an interrupted task left, so later output starts on a line of its own.
        const char line_feed = '\n';
        [[maybe_unused]] const ssize_t ignored = ::write(fd_, &line_feed, 1);
    }
}

void progress_line::update(std::uint64_t current, std::uint64_t total) {
    if (finished_) return;
    progress_.current = current;
    progress_.total = total;
    if (std::chrono::steady_clock::now() - drawn_ >= live_display::redraw_interval) draw(false);
}

void progress_line::finish() {
    if (finished_) return;
    progress_.finished = true;
    draw(true);
    finished_ = true;
}

void progress_line::draw(bool final) {
    drawn_ = std::chrono::steady_clock::now();
    winsize size{};
    std::size_t width = 80;
    if (::ioctl(fd_, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) width = size.ws_col;
    std::optional<std::chrono::steady_clock::duration> elapsed;
    if (final) elapsed = drawn_ - started_;
    std::string out = "\r" + task_line(progress_, "", width, color_, 8, elapsed) + "\x1b[K";
    if (final) out += "\n";
    std::size_t written = 0;
    while (written < out.size()) {
        const ssize_t n = ::write(fd_, out.data() + written, out.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // a closed terminal ends the line, not the command
        written += static_cast<std::size_t>(n);
    }
}

}  // namespace dockwright::cli
