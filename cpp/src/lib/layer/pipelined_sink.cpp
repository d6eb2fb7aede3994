// A producer thread feeding a consumer through a bounded queue of reused chunks.
#include "pipelined_sink.hpp"

#include <algorithm>
#include <cstring>
#include <thread>
#include <utility>

namespace dockwright::layer::detail {

pipelined_sink::pipelined_sink(std::size_t chunk_size, std::size_t max_chunks)
    : chunk_size_(chunk_size), max_chunks_(std::max<std::size_t>(1, max_chunks)) {}

pipelined_sink::chunk pipelined_sink::take_free_chunk(std::unique_lock<std::mutex>& lock) {
    changed_.wait(lock, [this] { return cancelled_ || queue_.size() < max_chunks_; });
    if (cancelled_) throw pipeline_cancelled{};
    if (free_.empty()) return chunk{std::make_unique_for_overwrite<std::byte[]>(chunk_size_), 0};
    chunk reused = std::move(free_.back());
    free_.pop_back();
    reused.size = 0;
    return reused;
}

void pipelined_sink::queue_current() {
    if (!has_current_) return;
    has_current_ = false;
    if (current_.size == 0) {
        std::lock_guard lock(mutex_);
        free_.push_back(std::move(current_));
        return;
    }
    {
        std::lock_guard lock(mutex_);
        if (cancelled_) throw pipeline_cancelled{};
        queue_.push_back(std::move(current_));
    }
    changed_.notify_all();
}

std::span<std::byte> pipelined_sink::prepare(std::size_t min_size) {
    // Data larger than a chunk is split anyway, so it fills the current chunk first.
    const std::size_t required = min_size > chunk_size_ ? 1 : min_size;
    if (has_current_ && chunk_size_ - current_.size < required) queue_current();
    if (!has_current_) {
        std::unique_lock lock(mutex_);
        current_ = take_free_chunk(lock);
        has_current_ = true;
    }
    return std::span(current_.data.get() + current_.size, chunk_size_ - current_.size);
}

void pipelined_sink::commit(std::size_t count) {
    current_.size += count;
    if (current_.size == chunk_size_) queue_current();
}

void pipelined_sink::write(std::span<const std::byte> bytes) {
    while (!bytes.empty()) {
        const std::span<std::byte> space = prepare(1);
        const std::size_t n = std::min(space.size(), bytes.size());
        std::memcpy(space.data(), bytes.data(), n);
        commit(n);
        bytes = bytes.subspan(n);
    }
}

void pipelined_sink::finish() {
    queue_current();
    {
        std::lock_guard lock(mutex_);
        finished_ = true;
    }
    changed_.notify_all();
}

void pipelined_sink::fail(std::exception_ptr failure) {
    {
        std::lock_guard lock(mutex_);
        failure_ = std::move(failure);
        finished_ = true;
    }
    changed_.notify_all();
}

void pipelined_sink::cancel() {
    {
        std::lock_guard lock(mutex_);
        cancelled_ = true;
        queue_.clear();
    }
    changed_.notify_all();
}

void pipelined_sink::drain(byte_sink& next) {
    std::unique_lock lock(mutex_);
    while (true) {
        changed_.wait(lock, [this] { return finished_ || !queue_.empty(); });
        if (queue_.empty()) break;
        chunk oldest = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        // The producer may fill a new chunk while this one is consumed.
        changed_.notify_all();
        next.write(std::span<const std::byte>(oldest.data.get(), oldest.size));
        lock.lock();
        free_.push_back(std::move(oldest));
    }
    if (failure_) std::rethrow_exception(failure_);
}

void run_pipelined(byte_sink& next, const std::function<void(byte_sink&)>& produce) {
    // 1 MiB chunks, 8 queued: read-ahead of up to 8 MiB, enough to cover a scheduling delay of
    // the consumer while keeping peak memory near 10 MiB.
    pipelined_sink pipe(1024 * 1024, 8);
    std::thread producer([&] {
        try {
            produce(pipe);
        } catch (const pipeline_cancelled&) {
            pipe.fail(nullptr);
        } catch (...) {
            pipe.fail(std::current_exception());
        }
    });
    try {
        pipe.drain(next);
    } catch (...) {
        pipe.cancel();
        producer.join();
        throw;
    }
    producer.join();
    next.finish();
}

}  // namespace dockwright::layer::detail
