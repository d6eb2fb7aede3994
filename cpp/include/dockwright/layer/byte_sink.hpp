// Byte sinks: the stages a layer stream passes through (digest, compression, file).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dockwright/core/digest.hpp"

namespace dockwright::layer {

/// A stage that consumes a stream of bytes. Write errors throw layer_error.
class byte_sink {
  public:
    byte_sink() = default;
    byte_sink(const byte_sink&) = delete;
    byte_sink& operator=(const byte_sink&) = delete;
    virtual ~byte_sink() = default;

    virtual void write(std::span<const std::byte> bytes) = 0;
    void write(std::string_view bytes) { write(std::as_bytes(std::span(bytes))); }

    /// Flushes everything buffered to the next stage. Called once, after the last write.
    virtual void finish() {}

    /// Returns free space in the sink's own buffer for the caller to fill in place (a read(2)
    /// into it saves a copy), or an empty span when the sink has no such buffer. The space is
    /// at least `min_size` bytes when that fits the buffer, else at least one byte. commit()
    /// then passes on the bytes filled.
    virtual std::span<std::byte> prepare(std::size_t /*min_size*/) { return {}; }
    /// Passes on the first `count` bytes of the span prepare() returned.
    virtual void commit(std::size_t /*count*/) {}
};

/// Collects the stream in memory (tests, small layers).
class string_sink final : public byte_sink {
  public:
    void write(std::span<const std::byte> bytes) override {
        data_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    using byte_sink::write;
    [[nodiscard]] const std::string& data() const noexcept { return data_; }

  private:
    std::string data_;
};

/// Writes to a file descriptor it does not own, through a 256 KiB buffer.
class fd_sink final : public byte_sink {
  public:
    explicit fd_sink(int fd) : fd_(fd) { buffer_.reserve(buffer_size); }
    void write(std::span<const std::byte> bytes) override;
    using byte_sink::write;
    void finish() override;

  private:
    static constexpr std::size_t buffer_size = 256 * 1024;
    void write_through(std::span<const std::byte> bytes);

    int fd_;
    std::vector<std::byte> buffer_;
};

/// Computes the SHA-256 digest and the size of the stream while passing it on to `next`.
class digesting_sink final : public byte_sink {
  public:
    explicit digesting_sink(byte_sink& next) : next_(next) {}
    void write(std::span<const std::byte> bytes) override {
        hasher_.update(bytes);
        size_ += bytes.size();
        next_.write(bytes);
    }
    using byte_sink::write;
    /// Finishes `next` and the digest, which result() then returns.
    void finish() override {
        next_.finish();
        result_ = hasher_.finish();
    }

    [[nodiscard]] std::uint64_t size() const noexcept { return size_; }
    /// The digest of everything written; empty before finish().
    [[nodiscard]] const std::optional<digest>& result() const noexcept { return result_; }

  private:
    byte_sink& next_;
    hasher hasher_;
    std::uint64_t size_ = 0;
    std::optional<digest> result_;
};

}  // namespace dockwright::layer
