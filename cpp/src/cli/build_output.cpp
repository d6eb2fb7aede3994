// Docker-style rendering of build events.
#include "build_output.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <dockwright/core/error.hpp>
#include <dockwright/dockerfile/detail/utf8.hpp>
#include <dockwright/dockerfile/dockerignore.hpp>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "human_units.hpp"
#include "live_display.hpp"

namespace dockwright::cli {

namespace fs = std::filesystem;

namespace {

/// Docker's engine sends build output as JSON, so invalid UTF-8 arrives as U+FFFD.
std::string valid_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    while (!text.empty()) {
        const detail::decoded_rune rune = detail::decode_rune(text);
        detail::append_rune(out, rune.value);
        text.remove_prefix(rune.width);
    }
    return out;
}

std::string trim_right(std::string text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.pop_back();
    return text;
}

std::string short_hex(const digest& id) {
    return std::string(id.hex().substr(0, 12));
}

void add_sizes(const fs::path& dir, const std::string& prefix, const dockerignore& ignore,
               std::uint64_t& total) {
    // Each stat is relative to the directory's descriptor: one path component to look up.
    const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) return;
    const std::unique_ptr<DIR, int (*)(DIR*)> listing(::fdopendir(dir_fd), &::closedir);
    if (!listing) {
        ::close(dir_fd);
        return;
    }
    std::vector<std::string> names;
    while (const dirent* item = ::readdir(listing.get())) {
        const std::string_view name = item->d_name;
        if (name != "." && name != "..") names.emplace_back(name);
    }
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
        const std::string rel = prefix.empty() ? name : prefix + "/" + name;
        struct stat info {};
        if (::fstatat(dir_fd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) continue;
        const bool is_dir = S_ISDIR(info.st_mode);
        const bool excluded = ignore.matches(rel);
        if (excluded && (!is_dir || ignore.can_skip_directory(rel))) continue;
        if (!excluded) {
            total += 512;
            if (rel.size() > 100) total += 1024;  // a PAX header carries the long name
            if (S_ISREG(info.st_mode)) {
                total += (static_cast<std::uint64_t>(info.st_size) + 511) / 512 * 512;
            }
        }
        if (is_dir) add_sizes(dir / name, rel, ignore, total);
    }
}

}  // namespace

build_renderer::build_renderer(std::ostream& out, render_style style, bool explain_cache,
                               int terminal_fd)
    : out_(out), style_(style), explain_cache_(explain_cache) {
    if (style_ == render_style::tty) {
        display_ = std::make_unique<live_display>(terminal_fd < 0 ? STDOUT_FILENO : terminal_fd);
    }
}

build_renderer::~build_renderer() = default;

void build_renderer::line(const std::string& text, bool is_stderr) {
    if (style_ == render_style::quiet) return;
    if (style_ == render_style::json) {
        out_ << nlohmann::json{{"stream", text + "\n"}}.dump() << "\r\n";
    } else if (is_stderr) {
        out_ << "\x1b[91m" << valid_utf8(text) << "\n\x1b[0m";
    } else {
        out_ << valid_utf8(text) << '\n';
    }
    out_.flush();
}

void build_renderer::parser_warnings(const std::string& text) {
    if (text.empty() || style_ == render_style::quiet) return;
    if (display_) {
        display_->print_above(text);
        return;
    }
    if (style_ == render_style::json) {
        out_ << nlohmann::json{{"stream", text}}.dump() << "\r\n";
    } else {
        out_ << "\x1b[91m" << text << "\x1b[0m";
    }
    out_.flush();
}

void build_renderer::context_size(std::uint64_t bytes) {
    if (display_) {
        display_->set_context_size(bytes);
        return;
    }
    line("Sending build context to Docker daemon  " + human_size(static_cast<double>(bytes), 4));
}

void build_renderer::on(const build_event& event) {
    if (display_) {
        if (event.kind == build_event_kind::warning) {
            display_->print_above(event.text);
        } else {
            display_->on(event);
        }
        return;
    }
    switch (event.kind) {
        case build_event_kind::step_started:
            container_.clear();
            line("Step " + std::to_string(event.step) + "/" + std::to_string(event.total) + " : " +
                 trim_right(event.instruction));
            break;
        case build_event_kind::base:
            line(" ---> " + (event.image_id ? short_hex(*event.image_id) : std::string()));
            break;
        case build_event_kind::pulling:
            line("Pulling " + event.text);
            break;
        case build_event_kind::triggers:
            line("# Executing " + std::to_string(event.count) + " build trigger" +
                 (event.count == 1 ? "" : "s"));
            break;
        case build_event_kind::container:
            container_ = event.container_id.substr(0, 12);
            line(" ---> Running in " + container_);
            break;
        case build_event_kind::output:
            line(event.text, event.is_stderr);
            break;
        case build_event_kind::cache:
            if (event.cache_hit) {
                line(" ---> Using cache");
            } else if (explain_cache_) {
                line(" ---> Cache miss: " + event.cache_reason);
            }
            if (event.cache_hit && explain_cache_) line(" ---> Cache hit: " + event.cache_reason);
            break;
        case build_event_kind::not_executed:
            line(" ---> Not executed (evaluation)");
            break;
        case build_event_kind::step_finished:
            if (!container_.empty() && (remove_ || force_remove_)) {
                line("Removing intermediate container " + container_);
            }
            container_.clear();
            if (event.image_id) line(" ---> " + short_hex(*event.image_id));
            break;
        case build_event_kind::warning:
            line(event.text);
            break;
        case build_event_kind::stage_finished:
        case build_event_kind::progress:
            break;
    }
}

void build_renderer::failed(const std::string& message) {
    if (display_) display_->finish(false);
    // Docker's --force-rm removes the failed step's container too and prints the line.
    if (force_remove_ && !container_.empty() && !display_) {
        line("Removing intermediate container " + container_);
    }
    container_.clear();
    if (style_ == render_style::json) {
        out_ << nlohmann::json{{"errorDetail", {{"message", message}}}, {"error", message}}.dump()
             << "\r\n";
        out_.flush();
        return;
    }
    out_.flush();
    std::cerr << message << '\n';
}

void build_renderer::succeeded(const digest& id, const std::vector<reference>& tags) {
    if (style_ == render_style::quiet) {
        out_ << id.str() << '\n';
        return;
    }
    if (style_ == render_style::json) {
        out_ << nlohmann::json{{"aux", {{"ID", id.str()}}}}.dump() << "\r\n";
    }
    if (display_) display_->finish(true);
    line("Successfully built " + short_hex(id));
    for (const reference& tag : tags)
        line("Successfully tagged " + tag.familiar());
}

std::uint64_t context_upload_size(const fs::path& context) {
    const fs::path ignore_file = context / ".dockerignore";
    const dockerignore ignore =
        fs::exists(ignore_file) ? dockerignore::from_file(ignore_file) : dockerignore();
    std::uint64_t total = 1024;
    add_sizes(context, "", ignore, total);
    return total;
}

void build_renderer::exported(const std::string& type, const std::string& dest,
                              std::uint64_t bytes) {
    if (display_) return;
    line("Exported type=" + type + " to " + dest + ": " + std::to_string(bytes) + " bytes");
}

void build_renderer::finish_display(bool succeeded) {
    if (display_) display_->finish(succeeded);
}

}  // namespace dockwright::cli
