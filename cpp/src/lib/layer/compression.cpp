// Compressing sinks: gzip members compressed in parallel with ISA-L or libdeflate, and zstd.
#include "dockwright/layer/compression.hpp"

#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <zstd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "dockwright/layer/layer_error.hpp"

namespace dockwright::layer {
namespace {

unsigned resolve_threads(unsigned requested) {
    if (requested != 0) return requested;
    return std::max(1U, std::thread::hardware_concurrency());
}

class passthrough_sink final : public byte_sink {
  public:
    explicit passthrough_sink(byte_sink& next) : next_(next) {}
    void write(std::span<const std::byte> bytes) override { next_.write(bytes); }
    void finish() override { next_.finish(); }

  private:
    byte_sink& next_;
};

struct deflate_compressor_deleter {
    void operator()(libdeflate_compressor* c) const noexcept { libdeflate_free_compressor(c); }
};

// Compresses one chunk into a complete gzip member: ISA-L's igzip for level 1, the fastest
// (about 2.4 times libdeflate's level 1 on the benchmark data), libdeflate for levels 2 to 12,
// which compress better.
class member_compressor {
  public:
    explicit member_compressor(int level) : level_(level) {
        if (level_ == 1) {
            isal_buffer_.resize(ISAL_DEF_LVL1_DEFAULT);
        } else {
            deflate_.reset(libdeflate_alloc_compressor(level_));
            if (!deflate_) throw layer_error("", "libdeflate: out of memory");
        }
    }

    void compress(const std::vector<std::byte>& input, std::vector<std::byte>& output) {
        if (level_ == 1) {
            compress_isal(input, output);
            return;
        }
        output.resize(libdeflate_gzip_compress_bound(deflate_.get(), input.size()));
        const std::size_t n = libdeflate_gzip_compress(deflate_.get(), input.data(), input.size(),
                                                       output.data(), output.size());
        if (n == 0) throw layer_error("", "libdeflate: gzip compression failed");
        output.resize(n);
    }

  private:
    void compress_isal(const std::vector<std::byte>& input, std::vector<std::byte>& output) {
        // Incompressible input is stored: 5 bytes per 64 KiB block plus header and trailer.
        output.resize(input.size() + input.size() / 1024 + 1024);
        isal_zstream stream;
        isal_deflate_init(&stream);
        stream.level = 1;
        stream.level_buf = reinterpret_cast<std::uint8_t*>(isal_buffer_.data());
        stream.level_buf_size = static_cast<std::uint32_t>(isal_buffer_.size());
        stream.gzip_flag = IGZIP_GZIP;
        stream.end_of_stream = 1;
        stream.flush = NO_FLUSH;
        stream.next_in = reinterpret_cast<std::uint8_t*>(const_cast<std::byte*>(input.data()));
        stream.avail_in = static_cast<std::uint32_t>(input.size());
        stream.next_out = reinterpret_cast<std::uint8_t*>(output.data());
        stream.avail_out = static_cast<std::uint32_t>(output.size());
        const int status = isal_deflate(&stream);
        if (status != COMP_OK || stream.internal_state.state != ZSTATE_END) {
            throw layer_error("",
                              "isa-l: gzip compression failed (" + std::to_string(status) + ")");
        }
        output.resize(stream.total_out);
    }

    int level_;
    std::vector<std::byte> isal_buffer_;
    std::unique_ptr<libdeflate_compressor, deflate_compressor_deleter> deflate_;
};

// Cuts the input into chunks of `chunk_size` and compresses each into a complete gzip member
// on a pool of worker threads. Members are written to `next` in input order. At most
// 4 * threads chunks, but at most 16 unless there are more threads, are in flight, each
// with its input and its output: about 32 MiB. The depth lets the workers run on while the
// writing thread waits for a CPU on a busy machine.
class parallel_gzip_sink final : public byte_sink {
  public:
    parallel_gzip_sink(byte_sink& next, int level, unsigned threads)
        : next_(next),
          level_(level),
          max_in_flight_(std::max<std::size_t>(threads, std::min<std::size_t>(4 * threads, 16))) {
        for (unsigned i = 0; i < threads; ++i)
            workers_.emplace_back([this] { work(); });
        current_.reserve(chunk_size);
    }
    ~parallel_gzip_sink() override { stop(); }

    void write(std::span<const std::byte> bytes) override {
        while (!bytes.empty()) {
            const std::size_t n = std::min(bytes.size(), chunk_size - current_.size());
            current_.insert(current_.end(), bytes.begin(), bytes.begin() + n);
            bytes = bytes.subspan(n);
            if (current_.size() == chunk_size) submit();
        }
    }

    void finish() override {
        if (!current_.empty()) submit();
        std::unique_lock lock(mutex_);
        while (!chunks_.empty())
            write_oldest(lock);
        lock.unlock();
        stop();
        if (failure_) std::rethrow_exception(failure_);
        next_.finish();
    }

  private:
    static constexpr std::size_t chunk_size = 1024 * 1024;

    struct chunk {
        std::vector<std::byte> input;
        std::vector<std::byte> output;
        bool taken = false;
        bool done = false;
    };

    void submit() {
        std::unique_lock lock(mutex_);
        while (chunks_.size() >= max_in_flight_)
            write_oldest(lock);
        if (failure_) std::rethrow_exception(failure_);
        chunks_.push_back(chunk{std::move(current_), {}, false, false});
        lock.unlock();
        work_ready_.notify_one();
        current_ = {};
        current_.reserve(chunk_size);
    }

    // Waits for the oldest chunk, then writes it with the lock released.
    void write_oldest(std::unique_lock<std::mutex>& lock) {
        chunk_done_.wait(lock, [this] { return chunks_.front().done; });
        chunk oldest = std::move(chunks_.front());
        chunks_.pop_front();
        lock.unlock();
        if (!failure_) next_.write(oldest.output);
        lock.lock();
    }

    void work() {
        std::optional<member_compressor> compressor;
        try {
            compressor.emplace(level_);
        } catch (...) {
            std::lock_guard lock(mutex_);
            if (!failure_) failure_ = std::current_exception();
        }
        std::unique_lock lock(mutex_);
        while (true) {
            work_ready_.wait(lock, [this] { return stopping_ || has_untaken(); });
            if (!has_untaken()) return;
            auto it = std::find_if(chunks_.begin(), chunks_.end(),
                                   [](const chunk& c) { return !c.taken; });
            chunk* job = &*it;
            job->taken = true;
            lock.unlock();
            compress(compressor, job->input, job->output);
            lock.lock();
            job->done = true;
            chunk_done_.notify_all();
        }
    }

    void compress(std::optional<member_compressor>& compressor, const std::vector<std::byte>& input,
                  std::vector<std::byte>& output) {
        try {
            if (!compressor) throw layer_error("", "gzip compressor unavailable");
            compressor->compress(input, output);
        } catch (...) {
            std::lock_guard lock(mutex_);
            if (!failure_) failure_ = std::current_exception();
        }
    }

    bool has_untaken() const {
        return std::any_of(chunks_.begin(), chunks_.end(), [](const chunk& c) { return !c.taken; });
    }

    void stop() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        work_ready_.notify_all();
        for (auto& worker : workers_) {
            if (worker.joinable()) worker.join();
        }
    }

    byte_sink& next_;
    int level_;
    std::size_t max_in_flight_;
    std::vector<std::byte> current_;
    // std::deque keeps references to its elements valid across push_back and pop_front.
    std::deque<chunk> chunks_;
    std::mutex mutex_;
    std::condition_variable work_ready_;
    std::condition_variable chunk_done_;
    std::exception_ptr failure_;
    bool stopping_ = false;
    std::vector<std::thread> workers_;
};

struct zstd_context_deleter {
    void operator()(ZSTD_CCtx* context) const noexcept { ZSTD_freeCCtx(context); }
};

// Streams through libzstd, using its own worker threads when there is more than one.
class zstd_sink final : public byte_sink {
  public:
    zstd_sink(byte_sink& next, int level, unsigned threads)
        : next_(next), context_(ZSTD_createCCtx()), output_(ZSTD_CStreamOutSize()) {
        if (!context_) throw layer_error("", "zstd: out of memory");
        check(ZSTD_CCtx_setParameter(context_.get(), ZSTD_c_compressionLevel, level));
        if (threads > 1) {
            // A libzstd built without threads rejects this; it then compresses on one thread.
            ZSTD_CCtx_setParameter(context_.get(), ZSTD_c_nbWorkers, static_cast<int>(threads));
            // Jobs of 2 MiB instead of the default 4 windows keep memory well under 64 MiB.
            ZSTD_CCtx_setParameter(context_.get(), ZSTD_c_jobSize, 2 * 1024 * 1024);
        }
    }

    void write(std::span<const std::byte> bytes) override {
        ZSTD_inBuffer input{bytes.data(), bytes.size(), 0};
        while (input.pos < input.size)
            drain(input, ZSTD_e_continue);
    }

    void finish() override {
        ZSTD_inBuffer input{nullptr, 0, 0};
        while (drain(input, ZSTD_e_end) != 0) {
        }
        next_.finish();
    }

  private:
    std::size_t drain(ZSTD_inBuffer& input, ZSTD_EndDirective mode) {
        ZSTD_outBuffer out{output_.data(), output_.size(), 0};
        const std::size_t left = check(ZSTD_compressStream2(context_.get(), &out, &input, mode));
        next_.write(std::span(output_.data(), out.pos));
        return left;
    }

    static std::size_t check(std::size_t result) {
        if (ZSTD_isError(result)) {
            throw layer_error("", std::string("zstd: ") + ZSTD_getErrorName(result));
        }
        return result;
    }

    byte_sink& next_;
    std::unique_ptr<ZSTD_CCtx, zstd_context_deleter> context_;
    std::vector<std::byte> output_;
};

}  // namespace

std::string_view compression_name(compression kind) noexcept {
    switch (kind) {
        case compression::gzip:
            return "gzip";
        case compression::zstd:
            return "zstd";
        case compression::none:
            break;
    }
    return "none";
}

std::unique_ptr<byte_sink> make_compressor(const compression_options& options, byte_sink& next) {
    const unsigned threads = resolve_threads(options.threads);
    switch (options.kind) {
        case compression::gzip: {
            const int level = options.level == 0 ? 1 : options.level;
            if (level < 1 || level > 12) {
                throw layer_error(
                    "", "invalid gzip level " + std::to_string(level) + ": expected 1 to 12");
            }
            return std::make_unique<parallel_gzip_sink>(next, level, threads);
        }
        case compression::zstd:
            return std::make_unique<zstd_sink>(next, options.level == 0 ? 3 : options.level,
                                               threads);
        case compression::none:
            break;
    }
    return std::make_unique<passthrough_sink>(next);
}

}  // namespace dockwright::layer
