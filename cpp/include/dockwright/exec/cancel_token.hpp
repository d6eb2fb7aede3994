// A flag that asks a running container to stop, safe to set from any thread or signal handler.
#pragma once

namespace dockwright::exec {

/// Requests cancellation of the runs that watch it. Backed by an eventfd, so a run blocked in
/// poll() wakes at once. cancel() is async-signal-safe and may be called from a SIGINT handler.
class cancel_token {
  public:
    cancel_token();
    cancel_token(const cancel_token&) = delete;
    cancel_token& operator=(const cancel_token&) = delete;
    ~cancel_token();

    /// Marks the token cancelled and wakes every run that waits on it.
    void cancel() noexcept;
    [[nodiscard]] bool cancelled() const noexcept;
    /// The eventfd that becomes readable once cancel() was called.
    [[nodiscard]] int fd() const noexcept { return fd_; }

  private:
    int fd_ = -1;
};

}  // namespace dockwright::exec
