// Digest parsing and the OpenSSL-backed streaming hasher.
//
// The hasher calls OpenSSL's SHA-2 functions directly instead of the EVP interface. The first
// EVP digest of a process loads OpenSSL's configuration and default provider (about 1 ms of a
// 20 ms config-only build on the bench VM), and every EVP context fetches its algorithm again.
// The direct functions run the same assembly (SHA-NI where the CPU has it). OpenSSL 3 marks
// them deprecated, hence the define.
// NOTE: should a later OpenSSL drop them, this file goes back to EVP.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <array>
#include <dockwright/core/digest.hpp>
#include <dockwright/core/error.hpp>
#include <variant>

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
    // SHA-384 is SHA-512 with other initial values and a shorter output.
    std::variant<SHA256_CTX, SHA512_CTX> context;
};

hasher::hasher(digest_algorithm algorithm)
    : state_(std::make_unique<state>()), algorithm_(algorithm) {
    int status = 0;
    if (algorithm == digest_algorithm::sha256) {
        status = SHA256_Init(&state_->context.emplace<SHA256_CTX>());
    } else if (algorithm == digest_algorithm::sha384) {
        status = SHA384_Init(&state_->context.emplace<SHA512_CTX>());
    } else {
        status = SHA512_Init(&state_->context.emplace<SHA512_CTX>());
    }
    if (status != 1) {
        throw error("OpenSSL could not start a " + std::string(algorithm_name(algorithm)) +
                    " hash");
    }
}

hasher::hasher(hasher&&) noexcept = default;
hasher& hasher::operator=(hasher&&) noexcept = default;
hasher::~hasher() = default;

void hasher::update(const void* data, std::size_t size) {
    if (!state_) throw error("hasher::update called after finish()");
    if (size == 0) return;
    const int status = std::holds_alternative<SHA256_CTX>(state_->context)
                           ? SHA256_Update(&std::get<SHA256_CTX>(state_->context), data, size)
                           : SHA512_Update(&std::get<SHA512_CTX>(state_->context), data, size);
    if (status != 1) throw error("OpenSSL failed to hash " + std::to_string(size) + " bytes");
}

digest hasher::finish() {
    if (!state_) throw error("hasher::finish called twice");
    std::array<unsigned char, SHA512_DIGEST_LENGTH> raw{};
    unsigned int length = 0;
    int status = 0;
    if (auto* sha256 = std::get_if<SHA256_CTX>(&state_->context)) {
        status = SHA256_Final(raw.data(), sha256);
        length = SHA256_DIGEST_LENGTH;
    } else if (algorithm_ == digest_algorithm::sha384) {
        status = SHA384_Final(raw.data(), &std::get<SHA512_CTX>(state_->context));
        length = SHA384_DIGEST_LENGTH;
    } else {
        status = SHA512_Final(raw.data(), &std::get<SHA512_CTX>(state_->context));
        length = SHA512_DIGEST_LENGTH;
    }
    state_.reset();
    if (status != 1) throw error("OpenSSL failed to finish a hash");

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
