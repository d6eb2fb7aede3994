// A byte sink that passes everything on and reports the bytes as build progress.
#pragma once

#include <cstdint>
#include <dockwright/build/build_event.hpp>
#include <dockwright/layer/byte_sink.hpp>
#include <string>

namespace dockwright {

/// Forwards every write, prepare() and commit() to `next` unchanged and sends `task`
/// progress events (bytes passed on so far, of `total`, 0 when unknown) through a
/// progress_reporter.
class progress_sink final : public layer::byte_sink {
  public:
    progress_sink(layer::byte_sink& next, build_event_sink events, std::string task,
                  std::uint64_t total = 0)
        : next_(next), reporter_(std::move(events), std::move(task), total) {}

    void write(std::span<const std::byte> bytes) override {
        next_.write(bytes);
        reporter_.add(bytes.size());
    }
    using layer::byte_sink::write;

    void finish() override {
        next_.finish();
        reporter_.finish();
    }

    std::span<std::byte> prepare(std::size_t min_size) override { return next_.prepare(min_size); }

    void commit(std::size_t count) override {
        next_.commit(count);
        reporter_.add(count);
    }

  private:
    layer::byte_sink& next_;
    progress_reporter reporter_;
};

}  // namespace dockwright
