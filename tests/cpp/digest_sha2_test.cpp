// The hasher's three SHA-2 algorithms against published and Python-computed digests, fed whole,
// in pieces that straddle the 64- and 128-byte blocks, and across a move.
#include <algorithm>
#include <catch2/catch.hpp>
#include <dockwright/core/digest.hpp>
#include <dockwright/core/error.hpp>
#include <string>
#include <vector>

using dockwright::digest;
using dockwright::digest_algorithm;
using dockwright::hasher;

namespace {

struct vector_case {
    digest_algorithm algorithm;
    std::string input_name;
    std::string expected;
};

/// Returns the input named `name`: "empty", "abc", "million-a" (one million 'a') or "bytes"
/// (1,049,344 bytes of 0x00..0xff repeated, longer than one 1 MiB chunk of the layer writer).
std::string input(const std::string& name) {
    if (name == "empty") return {};
    if (name == "abc") return "abc";
    if (name == "million-a") return std::string(1000000, 'a');
    std::string bytes;
    bytes.reserve(256 * 4099);
    for (int round = 0; round < 4099; ++round) {
        for (int value = 0; value < 256; ++value)
            bytes += static_cast<char>(value);
    }
    return bytes;
}

// FIPS 180-2 examples for "abc" and one million 'a'; the others from Python's hashlib.
const std::vector<vector_case> cases{
    {digest_algorithm::sha256, "empty",
     "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {digest_algorithm::sha256, "abc",
     "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {digest_algorithm::sha256, "million-a",
     "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
    {digest_algorithm::sha256, "bytes",
     "sha256:94df93bd19ecda40a8c3554f6cd4030e1ae324cfbf4ab25855ca94cab992ad3c"},
    {digest_algorithm::sha384, "empty",
     "sha384:38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51a"
     "d2f14898b95b"},
    {digest_algorithm::sha384, "abc",
     "sha384:cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358ba"
     "eca134c825a7"},
    {digest_algorithm::sha384, "million-a",
     "sha384:9d0e1809716474cb086e834e310a4a1ced149e9c00f248527972cec5704c2a5b07b8b3dc38ecc4ebae97"
     "ddd87f3d8985"},
    {digest_algorithm::sha384, "bytes",
     "sha384:62dde159c675c8a05446220435c4f0ecff2b312c6b9cc6e510d3e66bbf5877df5544a37f5860d59ff342"
     "9d2c0dd39c7f"},
    {digest_algorithm::sha512, "empty",
     "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff83"
     "18d2877eec2f63b931bd47417a81a538327af927da3e"},
    {digest_algorithm::sha512, "abc",
     "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba"
     "3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
    {digest_algorithm::sha512, "million-a",
     "sha512:e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0"
     "432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b"},
    {digest_algorithm::sha512, "bytes",
     "sha512:32b169fff74c2478fa4448d12d44c5a2ba58707ff7663b9b63942595ec32e3695e7c640756e084624b0f"
     "c530a438e3b0a44c73d47190253b2111f16d201693c5"},
};

}  // namespace

TEST_CASE("sha2 hasher matches known digests", "[digest]") {
    for (const vector_case& item : cases) {
        INFO(item.expected.substr(0, 6) << " of " << item.input_name);
        hasher whole(item.algorithm);
        whole.update(input(item.input_name));
        const digest result = whole.finish();
        CHECK(result.str() == item.expected);
        CHECK(result.algorithm() == item.algorithm);
        CHECK(digest::parse(result.str()) == result);
    }
}

TEST_CASE("sha2 hasher pieces straddle blocks", "[digest]") {
    // Piece sizes around the block sizes (64 bytes for SHA-256, 128 for SHA-384/512).
    const std::vector<std::size_t> sizes{1, 63, 64, 65, 127, 128, 129, 4097, 1};
    for (const vector_case& item : cases) {
        const std::string bytes = input(item.input_name);
        INFO(item.expected.substr(0, 6) << " of " << item.input_name);
        hasher pieces(item.algorithm);
        std::size_t offset = 0;
        for (std::size_t i = 0; offset < bytes.size(); ++i) {
            const std::size_t count = std::min(sizes[i % sizes.size()], bytes.size() - offset);
            pieces.update(bytes.data() + offset, count);
            pieces.update(bytes.data() + offset, 0);
            offset += count;
        }
        CHECK(pieces.finish().str() == item.expected);
    }
}

TEST_CASE("sha2 hasher keeps state across a move", "[digest]") {
    for (const digest_algorithm algorithm :
         {digest_algorithm::sha256, digest_algorithm::sha384, digest_algorithm::sha512}) {
        hasher first(algorithm);
        first.update("a");
        hasher second(std::move(first));
        second.update("bc");
        hasher third(digest_algorithm::sha256);
        third = std::move(second);
        hasher reference_hash(algorithm);
        reference_hash.update("abc");
        CHECK(third.finish() == reference_hash.finish());
    }
}

TEST_CASE("sha2 hasher rejects use after finish", "[digest]") {
    hasher used(digest_algorithm::sha384);
    (void)used.finish();
    CHECK_THROWS_WITH(used.update("x"), "hasher::update called after finish()");
    CHECK_THROWS_WITH(used.finish(), "hasher::finish called twice");
}
