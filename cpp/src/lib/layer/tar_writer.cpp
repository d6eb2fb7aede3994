// Encodes tar headers byte for byte as Go's archive/tar Writer (Go 1.19) does.
#include "dockwright/layer/tar_writer.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <string>
#include <string_view>

#include "dockwright/layer/layer_error.hpp"

namespace dockwright::layer {
namespace {

constexpr std::size_t block_size = 512;
using block = std::array<char, block_size>;

// Field offsets and widths of a ustar header.
struct field {
    std::size_t offset;
    std::size_t width;
};
constexpr field name_field{0, 100};
constexpr field mode_field{100, 8};
constexpr field uid_field{108, 8};
constexpr field gid_field{116, 8};
constexpr field size_field{124, 12};
constexpr field mtime_field{136, 12};
constexpr field checksum_field{148, 8};
constexpr std::size_t typeflag_offset = 156;
constexpr field linkname_field{157, 100};
constexpr field magic_field{257, 8};
constexpr field uname_field{265, 32};
constexpr field gname_field{297, 32};
constexpr field devmajor_field{329, 8};
constexpr field devminor_field{337, 8};
constexpr field prefix_field{345, 155};

bool is_ascii(std::string_view text) {
    for (unsigned char c : text) {
        if (c >= 0x80) return false;
    }
    return true;
}

// Go drops non-ASCII bytes from names it must still put in a header block.
std::string to_ascii(std::string_view text) {
    std::string ascii;
    for (unsigned char c : text) {
        if (c < 0x80) ascii += static_cast<char>(c);
    }
    return ascii;
}

// Copies `text` into the field, truncated, with a NUL after it when it is shorter.
void put_string(block& b, field f, std::string_view text) {
    const std::size_t n = std::min(text.size(), f.width);
    // An empty string_view may have a null data pointer, which memcpy must not receive.
    if (n != 0) std::memcpy(b.data() + f.offset, text.data(), n);
    if (n < f.width) b[f.offset + n] = '\0';
}

// Whether `value` fits a field of `width` bytes as octal digits plus a NUL.
bool fits_octal(std::size_t width, std::int64_t value) {
    const unsigned bits = static_cast<unsigned>(width - 1) * 3;
    return value >= 0 && (width >= 22 || value < (std::int64_t{1} << bits));
}

// Zero-padded octal leaving room for a NUL; a value that does not fit is written as 0 and
// carried by a PAX record instead.
void put_octal(block& b, field f, std::int64_t value) {
    if (!fits_octal(f.width, value)) value = 0;
    std::string digits;
    do {
        digits.insert(digits.begin(), static_cast<char>('0' + (value & 7)));
        value >>= 3;
    } while (value != 0);
    if (digits.size() + 1 < f.width) digits.insert(0, f.width - 1 - digits.size(), '0');
    put_string(b, f, digits);
}

void set_magic_and_checksum(block& b) {
    std::memcpy(b.data() + magic_field.offset,
                "ustar\0"
                "00",
                8);
    std::memset(b.data() + checksum_field.offset, ' ', checksum_field.width);
    unsigned sum = 0;
    for (char c : b)
        sum += static_cast<unsigned char>(c);
    put_octal(b, field{checksum_field.offset, 7}, sum);
    b[checksum_field.offset + 7] = ' ';
}

// Splits a long ASCII path into ustar's prefix (<= 155) and name (<= 100) at a slash, as Go's
// splitUSTARPath does; returns false when it cannot.
bool split_ustar_path(std::string_view path, std::string_view& prefix, std::string_view& name) {
    std::size_t length = path.size();
    if (length <= name_field.width || !is_ascii(path)) return false;
    if (length > prefix_field.width + 1) {
        length = prefix_field.width + 1;
    } else if (path[length - 1] == '/') {
        --length;
    }
    const std::size_t slash = path.substr(0, length).rfind('/');
    if (slash == std::string_view::npos || slash == 0) return false;
    const std::size_t name_length = path.size() - slash - 1;
    if (name_length > name_field.width || name_length == 0 || slash > prefix_field.width) {
        return false;
    }
    prefix = path.substr(0, slash);
    name = path.substr(slash + 1);
    return true;
}

// One PAX record, "<length> <key>=<value>\n", where length counts the whole record.
std::string pax_record(const std::string& key, const std::string& value) {
    std::size_t size = key.size() + value.size() + 3;
    size += std::to_string(size).size();
    std::string record = std::to_string(size) + " " + key + "=" + value + "\n";
    if (record.size() != size) {
        record = std::to_string(record.size()) + " " + key + "=" + value + "\n";
    }
    return record;
}

// Go's path.Join(dir, "PaxHeaders.0", base) for the name of an entry's PAX header.
std::string pax_header_name(const std::string& name) {
    const std::size_t slash = name.rfind('/');
    const std::string dir = slash == std::string::npos ? "" : name.substr(0, slash + 1);
    const std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
    std::string joined = dir + "PaxHeaders.0";
    if (!base.empty()) joined += "/" + base;
    return joined;
}

// The records an entry needs because ustar cannot carry them, keyed as Go keys them.
std::map<std::string, std::string> pax_records(const tar_entry& entry, bool& split_name) {
    std::map<std::string, std::string> records;
    std::string_view prefix;
    std::string_view name;
    split_name = false;
    if (entry.name.size() > name_field.width || !is_ascii(entry.name)) {
        split_name = split_ustar_path(entry.name, prefix, name);
        if (!split_name) records["path"] = entry.name;
    }
    if (entry.linkname.size() > linkname_field.width || !is_ascii(entry.linkname)) {
        records["linkpath"] = entry.linkname;
    }
    if (entry.uname.size() > uname_field.width || !is_ascii(entry.uname)) {
        records["uname"] = entry.uname;
    }
    if (entry.gname.size() > gname_field.width || !is_ascii(entry.gname)) {
        records["gname"] = entry.gname;
    }
    if (!fits_octal(uid_field.width, entry.uid)) records["uid"] = std::to_string(entry.uid);
    if (!fits_octal(gid_field.width, entry.gid)) records["gid"] = std::to_string(entry.gid);
    if (!fits_octal(size_field.width, entry.size)) records["size"] = std::to_string(entry.size);
    if (!fits_octal(mtime_field.width, entry.mtime)) {
        records["mtime"] = std::to_string(entry.mtime);
    }
    for (const auto& [key, value] : entry.xattrs)
        records["SCHILY.xattr." + key] = value;
    if (!records.empty()) split_name = false;
    return records;
}

void check_entry(const tar_entry& entry) {
    if (entry.name.empty()) throw layer_error(entry.name, "empty entry name");
    const auto has_nul = [](std::string_view text) {
        return text.find('\0') != std::string_view::npos;
    };
    if (has_nul(entry.name) || has_nul(entry.linkname) || has_nul(entry.uname) ||
        has_nul(entry.gname)) {
        throw layer_error(entry.name, "NUL byte in a name field");
    }
    for (const auto& [key, value] : entry.xattrs) {
        if (key.empty() || has_nul(key) || key.find('=') != std::string::npos) {
            throw layer_error(entry.name, "invalid extended attribute name '" + key + "'");
        }
    }
    if (entry.size < 0) throw layer_error(entry.name, "negative size");
    if (entry.uid < 0 || entry.gid < 0) throw layer_error(entry.name, "negative uid or gid");
}

}  // namespace

void tar_writer::emit(std::span<const std::byte> bytes) {
    out_.write(bytes);
    written_ += bytes.size();
}

void tar_writer::finish_entry() {
    if (remaining_ != 0) {
        throw layer_error(current_, std::to_string(remaining_) + " bytes of data missing");
    }
    static constexpr block zeros{};
    emit(std::as_bytes(std::span(zeros.data(), padding_)));
    padding_ = 0;
}

void tar_writer::write_header(const tar_entry& entry) {
    finish_entry();
    check_entry(entry);
    bool split_name = false;
    const auto records = pax_records(entry, split_name);

    if (!records.empty()) {
        std::string data;
        for (const auto& [key, value] : records)
            data += pax_record(key, value);
        if (data.size() > 1024 * 1024) {
            throw layer_error(entry.name, "PAX header larger than 1 MiB");
        }
        block pax{};
        std::string pax_name = to_ascii(pax_header_name(entry.name));
        if (pax_name.size() > name_field.width) pax_name.resize(name_field.width);
        while (!pax_name.empty() && pax_name.back() == '/')
            pax_name.pop_back();
        put_string(pax, name_field, pax_name);
        put_octal(pax, mode_field, 0);
        put_octal(pax, uid_field, 0);
        put_octal(pax, gid_field, 0);
        put_octal(pax, size_field, static_cast<std::int64_t>(data.size()));
        put_octal(pax, mtime_field, 0);
        pax[typeflag_offset] = 'x';
        set_magic_and_checksum(pax);
        emit(std::as_bytes(std::span(pax)));
        emit(std::as_bytes(std::span(data)));
        static constexpr block zeros{};
        emit(std::as_bytes(
            std::span(zeros.data(), (block_size - data.size() % block_size) % block_size)));
    }

    block header{};
    std::string_view prefix;
    std::string_view name = entry.name;
    if (split_name) split_ustar_path(entry.name, prefix, name);
    if (records.empty()) {
        put_string(header, name_field, name);
        put_string(header, linkname_field, entry.linkname);
        put_string(header, uname_field, entry.uname);
        put_string(header, gname_field, entry.gname);
    } else {
        put_string(header, name_field, to_ascii(entry.name));
        put_string(header, linkname_field, to_ascii(entry.linkname));
        put_string(header, uname_field, to_ascii(entry.uname));
        put_string(header, gname_field, to_ascii(entry.gname));
    }
    put_octal(header, mode_field, entry.mode);
    put_octal(header, uid_field, entry.uid);
    put_octal(header, gid_field, entry.gid);
    put_octal(header, size_field, entry.size);
    put_octal(header, mtime_field, entry.mtime);
    header[typeflag_offset] = static_cast<char>(entry.type);
    put_octal(header, devmajor_field, entry.devmajor);
    put_octal(header, devminor_field, entry.devminor);
    put_string(header, prefix_field, prefix);
    set_magic_and_checksum(header);
    emit(std::as_bytes(std::span(header)));

    current_ = entry.name;
    const bool has_data = entry.type == entry_type::regular;
    remaining_ = has_data ? static_cast<std::uint64_t>(entry.size) : 0;
    padding_ = (block_size - remaining_ % block_size) % block_size;
}

void tar_writer::write_data(std::span<const std::byte> bytes) {
    if (bytes.size() > remaining_) {
        throw layer_error(current_, "more data than the header's size");
    }
    remaining_ -= bytes.size();
    emit(bytes);
}

std::span<std::byte> tar_writer::data_space() {
    if (remaining_ == 0) return {};
    const std::span<std::byte> space = out_.prepare(static_cast<std::size_t>(remaining_));
    return space.first(std::min<std::uint64_t>(space.size(), remaining_));
}

void tar_writer::commit_data(std::size_t count) {
    if (count > remaining_) throw layer_error(current_, "more data than the header's size");
    remaining_ -= count;
    written_ += count;
    out_.commit(count);
}

void tar_writer::close() {
    finish_entry();
    static constexpr std::array<char, 2 * block_size> end{};
    emit(std::as_bytes(std::span(end)));
    out_.finish();
}

}  // namespace dockwright::layer
