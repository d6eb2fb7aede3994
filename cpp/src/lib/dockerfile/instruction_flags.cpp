// Docker's BFlags: reading an instruction's raw flag words against the flags it accepts.
#include <dockwright/dockerfile/detail/go_text.hpp>
#include <dockwright/dockerfile/detail/instruction_flags.hpp>

namespace dockwright::detail {

[[noreturn]] void reject(std::string reason, std::string value, std::string docker_message) {
    throw check_failure{std::move(reason), std::move(value), std::move(docker_message)};
}

void flag_set::parse() {
    for (const std::string& word : words_) {
        if (word.rfind("--", 0) != 0) {
            reject("flag does not start with --", word, "Arg should start with -- : " + word);
        }
        if (word == "--") return;
        std::string name = word.substr(2);
        std::string value;
        const std::size_t equals = name.find('=');
        if (equals != std::string::npos) {
            value = name.substr(equals + 1);
            name.resize(equals);
        }
        const auto found = flags_.find(name);
        if (found == flags_.end()) reject("unknown flag", name, "Unknown flag: " + name);
        entry& flag = found->second;
        if (flag.used && flag.type != kind::strings) {
            reject("flag given more than once", name, "Duplicate flag specified: " + name);
        }
        flag.used = true;
        if (flag.type == kind::boolean) {
            if (equals != std::string::npos && value.empty()) {
                reject("missing value for flag", name, "Missing a value on flag: " + name);
            }
            const std::string lower = detail::go_to_lower(value);
            if (lower.empty() || lower == "true") {
                flag.value = "true";
            } else if (lower == "false") {
                flag.value = "false";
            } else {
                reject("invalid boolean value for flag --" + name, value,
                       "Expecting boolean value for flag " + name + ", not: " + value);
            }
            continue;
        }
        if (equals == std::string::npos) {
            reject("missing value for flag", name, "Missing a value on flag: " + name);
        }
        if (flag.type == kind::string) {
            flag.value = value;
        } else {
            flag.values.push_back(value);
        }
    }
}

}  // namespace dockwright::detail
