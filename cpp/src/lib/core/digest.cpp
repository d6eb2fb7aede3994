// Digest parsing and the OpenSSL-backed streaming hasher.
#include <openssl/evp.h>

#include <array>
#include <dockwright/core/digest.hpp>
#include <dockwright/core/error.hpp>

namespace dockwright {

namespace {

struct algorithm_info {
    digest_algorithm algorithm;
    std::string_view name;
    std::size_t hex_length;
};

constexpr std::array<algorithm_info, 3> algorithms{{
    {digest_algorithm::sha256, "sha256", 64},
    {digest_algorithm::sha384, "sha384", 96},
    {digest_algorithm::sha512, "sha512", 128},
}};

const EVP_MD* evp_type(digest_algorithm algorithm) {
    switch (algorithm) {
        case digest_algorithm::sha256:
            return EVP_sha256();
        case digest_algorithm::sha384:
            return EVP_sha384();
        case digest_algorithm::sha512:
            return EVP_sha512();
    }
    return EVP_sha256();
}

bool is_lower_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

}  // namespace

std::string_view algorithm_name(digest_algorithm algorithm) noexcept {
    for (const auto& entry : algorithms) {
        if (entry.algorithm == algorithm) return entry.name;
    }
    return "unknown";
}

digest digest::parse(std::string_view text) {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) {
        throw invalid_value_error("digest", std::string(text),
                                  "expected <algorithm>:<hex>, e.g. sha256:<64 hex digits>");
    }
    const auto name = text.substr(0, colon);
    const auto hex = text.substr(colon + 1);
    for (const auto& entry : algorithms) {
        if (entry.name != name) continue;
        if (hex.size() != entry.hex_length) {
            throw invalid_value_error("digest", std::string(text),
                                      std::string(name) + " needs " +
                                          std::to_string(entry.hex_length) + " hex digits, got " +
                                          std::to_string(hex.size()));
        }
        for (char c : hex) {
            if (!is_lower_hex(c)) {
                throw invalid_value_error("digest", std::string(text),
                                          "the hex part may hold only 0-9 and a-f");
            }
        }
        return digest(entry.algorithm, std::string(text));
    }
    throw invalid_value_error(
        "digest", std::string(text),
        "unsupported algorithm '" + std::string(name) + "' (expected sha256, sha384 or sha512)");
}

digest digest::sha256_of(std::string_view bytes) {
    hasher h;
    h.update(bytes);
    return h.finish();
}

struct hasher::state {
    EVP_MD_CTX* context = EVP_MD_CTX_new();
    ~state() { EVP_MD_CTX_free(context); }
};

hasher::hasher(digest_algorithm algorithm)
    : state_(std::make_unique<state>()), algorithm_(algorithm) {
    if (state_->context == nullptr ||
        EVP_DigestInit_ex(state_->context, evp_type(algorithm), nullptr) != 1) {
        throw error("EVP_DigestInit_ex failed for " + std::string(algorithm_name(algorithm)));
    }
}

hasher::hasher(hasher&&) noexcept = default;
hasher& hasher::operator=(hasher&&) noexcept = default;
hasher::~hasher() = default;

void hasher::update(const void* data, std::size_t size) {
    if (!state_) throw error("hasher::update called after finish()");
    if (size != 0 && EVP_DigestUpdate(state_->context, data, size) != 1) {
        throw error("EVP_DigestUpdate failed");
    }
}

digest hasher::finish() {
    if (!state_) throw error("hasher::finish called twice");
    std::array<unsigned char, EVP_MAX_MD_SIZE> raw{};
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(state_->context, raw.data(), &length) != 1) {
        throw error("EVP_DigestFinal_ex failed");
    }
    state_.reset();

    static constexpr std::string_view digits = "0123456789abcdef";
    std::string text(algorithm_name(algorithm_));
    text += ':';
    for (unsigned int i = 0; i < length; ++i) {
        text += digits[raw[i] >> 4];
        text += digits[raw[i] & 0x0f];
    }
    return digest(algorithm_, std::move(text));
}

std::vector<digest> chain_ids(std::span<const digest> diff_ids) {
    std::vector<digest> chain;
    chain.reserve(diff_ids.size());
    for (const auto& diff_id : diff_ids) {
        if (chain.empty()) {
            chain.push_back(diff_id);
            continue;
        }
        chain.push_back(digest::sha256_of(chain.back().str() + " " + diff_id.str()));
    }
    return chain;
}

digest chain_id(std::span<const digest> diff_ids) {
    if (diff_ids.empty()) {
        throw invalid_value_error("layer list", "", "a chain ID needs at least one diff ID");
    }
    return chain_ids(diff_ids).back();
}

}  // namespace dockwright
