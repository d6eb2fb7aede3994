// Content digests (`sha256:<hex>`), a streaming hasher and the OCI chain ID.
#pragma once

#include <compare>
#include <cstddef>
#include <memory>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dockwright {

/// The hash functions a digest may name, as the OCI image spec registers them.
enum class digest_algorithm { sha256, sha384, sha512 };

/// Returns the registered name of `algorithm` ("sha256", ...).
[[nodiscard]] std::string_view algorithm_name(digest_algorithm algorithm) noexcept;

/// A content digest `<algorithm>:<lower-case hex>`, validated on construction: the hex part
/// has exactly the length of the algorithm's output. Ordered and compared as its text.
class digest {
  public:
    /// Parses `sha256:<64 hex>` (or sha384/sha512). Throws invalid_value_error of kind "digest"
    /// naming the text and what is wrong with it.
    [[nodiscard]] static digest parse(std::string_view text);

    /// Computes the SHA-256 digest of `bytes`.
    [[nodiscard]] static digest sha256_of(std::string_view bytes);

    [[nodiscard]] digest_algorithm algorithm() const noexcept { return algorithm_; }
    /// The hex part, without the `sha256:` prefix.
    [[nodiscard]] std::string_view hex() const noexcept {
        return std::string_view(text_).substr(text_.find(':') + 1);
    }
    /// The full text, `sha256:<hex>`.
    [[nodiscard]] const std::string& str() const noexcept { return text_; }
    /// The first 12 hex digits, as docker shows image IDs.
    [[nodiscard]] std::string short_id() const { return std::string(hex().substr(0, 12)); }

    friend bool operator==(const digest&, const digest&) = default;
    friend std::strong_ordering operator<=>(const digest& a, const digest& b) noexcept {
        return a.text_.compare(b.text_) <=> 0;
    }
    friend std::ostream& operator<<(std::ostream& out, const digest& d) { return out << d.text_; }

  private:
    digest(digest_algorithm algorithm, std::string text)
        : algorithm_(algorithm), text_(std::move(text)) {}
    friend class hasher;

    digest_algorithm algorithm_;
    std::string text_;
};

/// A streaming hash over OpenSSL's SHA-2 functions: feed bytes with update(), then finish()
/// once. Movable, not copyable.
class hasher {
  public:
    explicit hasher(digest_algorithm algorithm = digest_algorithm::sha256);
    hasher(hasher&&) noexcept;
    hasher& operator=(hasher&&) noexcept;
    ~hasher();

    void update(const void* data, std::size_t size);
    void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
    void update(std::span<const std::byte> bytes) { update(bytes.data(), bytes.size()); }

    /// Returns the digest of everything fed so far. The hasher cannot be used afterwards.
    [[nodiscard]] digest finish();

  private:
    struct state;
    std::unique_ptr<state> state_;
    digest_algorithm algorithm_;
};

/// Computes the chain ID of a layer stack from its diff IDs, bottom layer first (OCI image
/// spec): the chain ID of one layer is its diff ID, and each further layer hashes the text
/// `<previous chain ID> <diff ID>`. Throws invalid_value_error for an empty list.
[[nodiscard]] digest chain_id(std::span<const digest> diff_ids);

/// Computes the chain ID of every prefix of `diff_ids`: element i is the chain ID of layers 0..i.
[[nodiscard]] std::vector<digest> chain_ids(std::span<const digest> diff_ids);

}  // namespace dockwright
