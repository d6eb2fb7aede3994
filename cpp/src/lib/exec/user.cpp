// USER resolution through passwd and group files, following runc's lookup as Docker uses it.
#include "dockwright/exec/user.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "dockwright/exec/exec_error.hpp"

namespace dockwright::exec {

namespace {

/// Splits one line, without its line feed, into its colon-separated fields.
std::vector<std::string_view> split_fields(std::string_view line) {
    std::vector<std::string_view> fields;
    std::size_t start = 0;
    for (;;) {
        const auto colon = line.find(':', start);
        fields.push_back(line.substr(start, colon - start));
        if (colon == std::string_view::npos) break;
        start = colon + 1;
    }
    return fields;
}

/// Calls `visit(fields)` for every non-empty, non-comment line of a passwd or group file.
template <typename Visit>
void for_each_entry(std::string_view text, Visit visit) {
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        auto line = text.substr(start, end - start);
        start = end + 1;
        while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
            line.remove_suffix(1);
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
            line.remove_prefix(1);
        if (line.empty() || line.front() == '#') continue;
        if (!visit(split_fields(line))) return;
    }
}

/// Parses a decimal id as Go's strconv.Atoi does: an optional sign, then digits only.
std::optional<long long> parse_number(std::string_view text) {
    if (text.empty()) return std::nullopt;
    long long value = 0;
    const char* first = text.data();
    if (*first == '+') ++first;
    const auto [end, ec] = std::from_chars(first, text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

/// A field that must be a number; a malformed one counts as -1 so that it never matches.
long long numeric_field(const std::vector<std::string_view>& fields, std::size_t index) {
    if (index >= fields.size()) return 0;
    return parse_number(fields[index]).value_or(-1);
}

void check_range(long long id) {
    if (id < 0 || id > std::numeric_limits<std::int32_t>::max())
        throw exec_error("", "uids and gids must be in range 0-2147483647");
}

}  // namespace

exec_user resolve_user(std::string_view spec, std::string_view passwd_text,
                       std::string_view group_text) {
    exec_user user;
    std::string_view user_arg = spec;
    std::string_view group_arg;
    if (const auto colon = spec.find(':'); colon != std::string_view::npos) {
        user_arg = spec.substr(0, colon);
        group_arg = spec.substr(colon + 1);
        // A second colon ends the group, as in runc's line parser.
        if (const auto extra = group_arg.find(':'); extra != std::string_view::npos)
            group_arg = group_arg.substr(0, extra);
    }
    const auto uid_arg = parse_number(user_arg);
    const auto gid_arg = parse_number(group_arg);

    // The first matching passwd entry wins.
    std::string matched_name;
    bool matched = false;
    for_each_entry(passwd_text, [&](const std::vector<std::string_view>& fields) {
        const std::string_view name = fields[0];
        const long long uid = numeric_field(fields, 2);
        bool hit = false;
        if (user_arg.empty())
            hit = uid == 0;
        else if (uid_arg)
            hit = uid == *uid_arg;
        else
            hit = name == user_arg;
        if (!hit) return true;
        matched = true;
        matched_name = std::string(name);
        user.uid = static_cast<uid_t>(uid);
        user.gid = static_cast<gid_t>(numeric_field(fields, 3));
        if (fields.size() > 5) user.home = std::string(fields[5]);
        return false;
    });
    if (!matched && !user_arg.empty()) {
        if (!uid_arg)
            throw exec_error("", "unable to find user " + std::string(user_arg) +
                                     ": no matching entries in passwd file");
        check_range(*uid_arg);
        user.uid = static_cast<uid_t>(*uid_arg);
    }

    if (group_arg.empty() && matched_name.empty()) {
        user.groups = {user.gid};
        return user;
    }

    std::vector<gid_t> found;
    for_each_entry(group_text, [&](const std::vector<std::string_view>& fields) {
        const std::string_view name = fields[0];
        const long long gid = numeric_field(fields, 2);
        bool hit = false;
        if (group_arg.empty()) {
            const std::string_view members = fields.size() > 3 ? fields[3] : std::string_view();
            std::size_t start = 0;
            while (start <= members.size() && !hit) {
                auto comma = members.find(',', start);
                if (comma == std::string_view::npos) comma = members.size();
                hit = members.substr(start, comma - start) == matched_name;
                start = comma + 1;
            }
        } else {
            hit = gid_arg ? gid == *gid_arg : name == group_arg;
        }
        if (hit) found.push_back(static_cast<gid_t>(gid));
        // An explicit group needs only the first match.
        return !(hit && !group_arg.empty());
    });

    if (!group_arg.empty()) {
        if (!found.empty()) {
            user.gid = found.front();
        } else {
            if (!gid_arg)
                throw exec_error("", "unable to find group " + std::string(group_arg) +
                                         ": no matching entries in group file");
            check_range(*gid_arg);
            user.gid = static_cast<gid_t>(*gid_arg);
        }
    } else {
        user.groups = std::move(found);
    }
    // Docker always passes the primary group as a supplementary group too, so `id` shows it
    // under groups= even for a uid:gid that no file names.
    if (std::find(user.groups.begin(), user.groups.end(), user.gid) == user.groups.end()) {
        user.groups.insert(user.groups.begin(), user.gid);
    }
    return user;
}

}  // namespace dockwright::exec
