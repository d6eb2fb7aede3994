// Private: runs the producer of a byte stream on its own thread, so that reading files overlaps
// with hashing, compressing and writing the stream.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "dockwright/layer/byte_sink.hpp"

namespace dockwright::layer::detail {

/// A byte sink that collects the bytes written on a producer thread into fixed-size chunks and
/// hands them to a consumer thread in order. At most `max_chunks` chunks are queued, so memory
/// stays below (max_chunks + 2) * chunk_size: the queue, the chunk being filled and the chunk
/// being consumed. Chunk buffers are reused, never freed and allocated again.
class pipelined_sink final : public byte_sink {
  public:
    pipelined_sink(std::size_t chunk_size, std::size_t max_chunks);

    // Producer side. write(), prepare() and commit() throw pipeline_cancelled once the
    // consumer has stopped.
    void write(std::span<const std::byte> bytes) override;
    using byte_sink::write;
    std::span<std::byte> prepare(std::size_t min_size) override;
    void commit(std::size_t count) override;
    /// Queues the last chunk and marks the end of the stream.
    void finish() override;
    /// Marks the end of the stream with the producer's exception, which drain() rethrows.
    void fail(std::exception_ptr failure);

    // Consumer side.
    /// Passes every chunk to `next` in order until the producer finishes, then rethrows the
    /// producer's exception if it failed. Does not call next.finish().
    void drain(byte_sink& next);
    /// Stops the producer at its next write; queued chunks are dropped.
    void cancel();

  private:
    struct chunk {
        std::unique_ptr<std::byte[]> data;  // chunk_size_ bytes, left uninitialised
        std::size_t size = 0;
    };

    void queue_current();
    chunk take_free_chunk(std::unique_lock<std::mutex>& lock);

    const std::size_t chunk_size_;
    const std::size_t max_chunks_;
    // Producer-owned: the chunk being filled.
    chunk current_;
    bool has_current_ = false;

    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<chunk> queue_;
    std::vector<chunk> free_;
    bool finished_ = false;
    bool cancelled_ = false;
    std::exception_ptr failure_;
};

/// Thrown on the producer thread when the consumer has stopped.
struct pipeline_cancelled {};

/// Runs `produce(sink)` on a new thread and passes what it writes to `next` on the calling
/// thread, then calls next.finish(). An exception from either side is rethrown here after the
/// producer thread has ended. `produce` must call sink.finish() after its last write.
void run_pipelined(byte_sink& next, const std::function<void(byte_sink&)>& produce);

}  // namespace dockwright::layer::detail
