// libFuzzer target: decoding arbitrary bytes as an image config either fails with json_error
// or yields a value whose encoding is stable: decoding it and encoding again gives the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <dockwright/core/error.hpp>
#include <dockwright/image/image.hpp>
#include <dockwright/image/oci.hpp>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    dockwright::image decoded;
    try {
        decoded = dockwright::image_from_json(text);
    } catch (const dockwright::json_error&) {
        return 0;
    }
    std::string encoded;
    try {
        encoded = dockwright::to_json(decoded);
    } catch (const dockwright::invalid_value_error&) {
        return 0;  // a timestamp whose year, after its UTC offset, is outside 0..9999
    }
    const dockwright::image again = dockwright::image_from_json(encoded);
    if (dockwright::to_json(again) != encoded) std::abort();
    (void)dockwright::to_oci_json(decoded);
    return 0;
}
