// The exception hierarchy: every error the library throws derives from dockwright::error.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>

namespace dockwright {

/// Base of every exception thrown by dockwright. Subclasses carry the offending value and its
/// location as fields, so callers (and the Python bindings) never have to parse the message.
class error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// A string that does not have the syntax its kind requires: a digest, a timestamp, a
/// duration, a reference. The message reads `invalid <kind> '<value>': <reason>`.
class invalid_value_error : public error {
  public:
    invalid_value_error(std::string kind, std::string value, std::string reason)
        : error("invalid " + kind + " '" + value + "': " + reason),
          kind_(std::move(kind)),
          value_(std::move(value)),
          reason_(std::move(reason)) {}

    [[nodiscard]] const std::string& kind() const noexcept { return kind_; }
    [[nodiscard]] const std::string& value() const noexcept { return value_; }
    [[nodiscard]] const std::string& reason() const noexcept { return reason_; }

  private:
    std::string kind_;
    std::string value_;
    std::string reason_;
};

/// JSON text that is malformed or does not fit the type it is decoded into. `path` names the
/// field as `config.Env[2]` (empty for the document itself), `value` is the offending JSON text
/// (shortened when long) and `offset` the byte offset in the input where the problem starts.
class json_error : public error {
  public:
    json_error(std::string path, std::string reason, std::string value, std::size_t offset)
        : error(format(path, reason, value, offset)),
          path_(std::move(path)),
          reason_(std::move(reason)),
          value_(std::move(value)),
          offset_(offset) {}

    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] const std::string& reason() const noexcept { return reason_; }
    [[nodiscard]] const std::string& value() const noexcept { return value_; }
    [[nodiscard]] std::size_t offset() const noexcept { return offset_; }

  private:
    static std::string format(const std::string& path, const std::string& reason,
                              const std::string& value, std::size_t offset) {
        std::string text = "json: ";
        text += path.empty() ? "at offset " + std::to_string(offset) : path;
        text += ": " + reason;
        if (!value.empty()) text += ": '" + value + "'";
        return text;
    }

    std::string path_;
    std::string reason_;
    std::string value_;
    std::size_t offset_;
};

/// Where in a Dockerfile an error was found. Lines are 1-based; 0 means unknown.
struct source_location {
    std::string file;
    int line = 0;
    int end_line = 0;

    friend bool operator==(const source_location&, const source_location&) = default;
};

/// Base of the errors found in a Dockerfile. The message has one shape:
/// `<file>:<line>: <INSTRUCTION>: <reason>: '<value>'`, leaving out the parts that are empty.
class dockerfile_error : public error {
  public:
    dockerfile_error(source_location where, std::string instruction, std::string reason,
                     std::string value)
        : error(format(where, instruction, reason, value)),
          where_(std::move(where)),
          instruction_(std::move(instruction)),
          reason_(std::move(reason)),
          value_(std::move(value)) {}

    [[nodiscard]] const source_location& where() const noexcept { return where_; }
    [[nodiscard]] const std::string& file() const noexcept { return where_.file; }
    [[nodiscard]] int line() const noexcept { return where_.line; }
    [[nodiscard]] int end_line() const noexcept { return where_.end_line; }
    [[nodiscard]] const std::string& instruction() const noexcept { return instruction_; }
    [[nodiscard]] const std::string& reason() const noexcept { return reason_; }
    [[nodiscard]] const std::string& value() const noexcept { return value_; }

  private:
    static std::string format(const source_location& where, const std::string& instruction,
                              const std::string& reason, const std::string& value) {
        std::string text;
        if (!where.file.empty()) text += where.file + ":";
        if (where.line > 0) text += std::to_string(where.line) + ":";
        if (!text.empty()) text += " ";
        if (!instruction.empty()) text += instruction + ": ";
        text += reason;
        if (!value.empty()) text += ": '" + value + "'";
        return text;
    }

    source_location where_;
    std::string instruction_;
    std::string reason_;
    std::string value_;
};

/// The Dockerfile text itself is malformed (directives, continuations, JSON form, flags).
class parse_error : public dockerfile_error {
  public:
    using dockerfile_error::dockerfile_error;
};

/// A word could not be expanded: an unterminated quote or brace, a `${VAR?message}` whose
/// variable is unset, an unsupported modifier.
class expansion_error : public dockerfile_error {
  public:
    using dockerfile_error::dockerfile_error;
};

/// An instruction is well formed but invalid: a missing argument, an unknown flag, a bad value.
class instruction_error : public dockerfile_error {
  public:
    using dockerfile_error::dockerfile_error;
};

}  // namespace dockwright
