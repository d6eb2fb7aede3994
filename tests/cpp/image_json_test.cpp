// The image value types encode as Docker's Go code does, byte for byte, and decode as Go does.
#include <catch2/catch.hpp>
#include <dockwright/core/error.hpp>
#include <dockwright/image/image.hpp>
#include <sstream>

using namespace dockwright;

namespace {

/// The bytes of a default Config: every field Docker always writes, in its struct order.
const std::string empty_config =
    R"({"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,)"
    R"("AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,)"
    R"("Cmd":null,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,)"
    R"("Labels":null})";

std::string encoded_string(std::string_view text) {
    config c;
    c.user = std::string(text);
    const std::string all = to_json(c);
    const auto start = all.find("\"User\":") + 7;
    const auto end = all.find(",\"AttachStdin\"");
    return all.substr(start, end - start);
}

json_error decode_error(std::string_view text) {
    try {
        (void)image_from_json(text);
    } catch (const json_error& e) {
        return e;
    }
    FAIL("no json_error for " << text);
    throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("config fields in Docker's struct order", "[image][json]") {
    CHECK(to_json(config{}) == empty_config);
}

TEST_CASE("config omitempty fields appear when set", "[image][json]") {
    config c;
    c.exposed_ports = std::set<std::string>{"80/tcp", "443/tcp"};
    c.healthcheck = health_config{{{"CMD", "true"}}, 30'000'000'000, 0, 0, 3, {}};
    c.args_escaped = true;
    c.network_disabled = true;
    c.mac_address = "02:42:ac:11:00:02";
    c.stop_signal = "SIGTERM";
    c.stop_timeout = 0;
    c.shell = std::vector<std::string>{"/bin/bash", "-c"};
    CHECK(to_json(c) ==
          R"({"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,)"
          R"("AttachStderr":false,"ExposedPorts":{"443/tcp":{},"80/tcp":{}},"Tty":false,)"
          R"("OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":null,)"
          R"("Healthcheck":{"Test":["CMD","true"],"Interval":30000000000,"Retries":3},)"
          R"("ArgsEscaped":true,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,)"
          R"("NetworkDisabled":true,"MacAddress":"02:42:ac:11:00:02","OnBuild":null,)"
          R"("Labels":null,"StopSignal":"SIGTERM","StopTimeout":0,"Shell":["/bin/bash","-c"]})");
}

TEST_CASE("config omitempty drops empty sets and lists", "[image][json]") {
    config c;
    c.exposed_ports = std::set<std::string>{};
    c.shell = std::vector<std::string>{};
    CHECK(to_json(c) == empty_config);
}

TEST_CASE("nil and empty lists and maps differ", "[image][json]") {
    config c;
    c.env = std::vector<std::string>{};
    c.labels = std::map<std::string, std::string>{};
    c.volumes = std::set<std::string>{};
    const std::string text = to_json(c);
    CHECK(text.find(R"("Env":[],)") != std::string::npos);
    CHECK(text.find(R"("Labels":{})") != std::string::npos);
    CHECK(text.find(R"("Volumes":{},)") != std::string::npos);
    CHECK(text.find(R"("Cmd":null,)") != std::string::npos);
    CHECK(config_from_json(text) == c);
}

TEST_CASE("map keys sorted byte-wise", "[image][json]") {
    config c;
    c.labels = std::map<std::string, std::string>{
        {"b", "2"}, {"B", "1"}, {"a.b", "3"}, {"\xc3\xa9", "4"}, {"_", "5"}};
    const std::string text = to_json(c);
    CHECK(text.find(R"("Labels":{"B":"1","_":"5","a.b":"3","b":"2","é":"4"})") !=
          std::string::npos);
}

TEST_CASE("HTML characters escaped as Go does", "[image][json]") {
    CHECK(encoded_string("<a> & b") == R"("\u003ca\u003e \u0026 b")");
}

TEST_CASE("line and paragraph separators escaped", "[image][json]") {
    CHECK(encoded_string("a\u2028b\u2029c") == R"("a\u2028b\u2029c")");
}

TEST_CASE("control characters escaped as Go 1.19 does", "[image][json]") {
    CHECK(encoded_string("\b\f\n\r\t\x01\x1f") == R"("\u0008\u000c\n\r\t\u0001\u001f")");
    CHECK(encoded_string("quote\" back\\slash") == R"("quote\" back\\slash")");
    CHECK(encoded_string("del\x7f") == "\"del\x7f\"");
}

TEST_CASE("non-ASCII text written raw", "[image][json]") {
    CHECK(encoded_string("h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x90\xb3") ==
          "\"h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x90\xb3\"");
}

TEST_CASE("invalid UTF-8 replaced by U+FFFD", "[image][json]") {
    CHECK(encoded_string("caf\xe9") == "\"caf\xef\xbf\xbd\"");
    CHECK(encoded_string("\xe2\x82") == "\"\xef\xbf\xbd\xef\xbf\xbd\"");
    CHECK(encoded_string("\xed\xa0\x80") == "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
    CHECK(encoded_string("\xc0\x80") == "\"\xef\xbf\xbd\xef\xbf\xbd\"");
}

TEST_CASE("history entry keys and omitempty", "[image][json]") {
    history h;
    h.created = timestamp::parse("2023-11-14T22:13:20.5Z");
    CHECK(to_json(h) == R"({"created":"2023-11-14T22:13:20.5Z"})");
    h.author = "me <me@example.com>";
    h.created_by = "/bin/sh -c #(nop)  ENV A=1";
    h.comment = "c";
    h.empty_layer = true;
    CHECK(to_json(h) ==
          R"({"created":"2023-11-14T22:13:20.5Z","author":"me \u003cme@example.com\u003e",)"
          R"("created_by":"/bin/sh -c #(nop)  ENV A=1","comment":"c","empty_layer":true})");
    CHECK(to_json(history{}) == R"({"created":"0001-01-01T00:00:00Z"})");
}

TEST_CASE("rootfs without layers has no diff_ids", "[image][json]") {
    CHECK(to_json(root_fs{}) == R"({"type":"layers"})");
    root_fs r;
    r.diff_ids.push_back(digest::sha256_of("a"));
    CHECK(
        to_json(r) ==
        R"({"type":"layers","diff_ids":["sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"]})");
}

TEST_CASE("image top-level keys sorted", "[image][json]") {
    image img;
    img.architecture = "amd64";
    img.os = "linux";
    img.author = "A";
    img.comment = "imported";
    img.container = "abc";
    img.docker_version = "20.10.24+dfsg1";
    img.config = config{};
    img.rootfs = root_fs{};
    img.history.push_back(history{});
    img.os_version = "10";
    img.os_features = {"win32k"};
    img.size = 7;
    img.created = timestamp::from_unix(1700000000);
    img.extra.emplace_back("moby.extra", R"({"k":"v"})");
    img.extra.emplace_back("zzz", "1");
    const std::string expected =
        R"({"Size":7,"architecture":"amd64","author":"A","comment":"imported",)"
        R"("config":)" +
        empty_config + R"(,"container":"abc","container_config":)" + empty_config +
        R"(,"created":"2023-11-14T22:13:20Z","docker_version":"20.10.24+dfsg1",)"
        R"("history":[{"created":"0001-01-01T00:00:00Z"}],"moby.extra":{"k":"v"},)"
        R"("os":"linux","os.features":["win32k"],"os.version":"10",)"
        R"("rootfs":{"type":"layers"},"zzz":1})";
    CHECK(to_json(img) == expected);
    CHECK(img.computed_id() == digest::sha256_of(expected));
    CHECK(image_from_json(expected) == img);
}

TEST_CASE("v1 image keys in struct order", "[image][json]") {
    v1_image v1;
    v1.id = "abc";
    v1.parent = "def";
    v1.created = timestamp::from_unix(1700000000);
    v1.os = "linux";
    v1.architecture = "amd64";
    CHECK(to_json(v1) == R"({"id":"abc","parent":"def","created":"2023-11-14T22:13:20Z",)"
                         R"("container_config":)" +
                             empty_config + R"(,"architecture":"amd64","os":"linux"})");
}

TEST_CASE("unknown members kept in place", "[image][json]") {
    const std::string text =
        R"({"architecture":"amd64","config":{"Hostname":"","Domainname":"","User":"",)"
        R"("AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,)"
        R"("OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":null,"Image":"","Volumes":null,)"
        R"("WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null,)"
        R"("StartInterval":5,"Future":{"a":[1,2.50,"x\u003c"]}},)"
        R"("created":"2023-11-14T22:13:20Z","history":[{"created":"2023-11-14T22:13:20Z",)"
        R"("note":"n"}],"new_top":true,"os":"linux","rootfs":{"type":"layers","x":null}})";
    const image img = image_from_json(text);
    REQUIRE(img.config);
    CHECK(img.config->extra ==
          extra_fields{{"StartInterval", "5"}, {"Future", R"({"a":[1,2.50,"x\u003c"]})"}});
    CHECK(img.extra == extra_fields{{"new_top", "true"}});
    CHECK(img.history.at(0).extra == extra_fields{{"note", R"("n")"}});
    // Written back, the document keeps its bytes: container_config is new, as Docker adds it.
    const std::string again = to_json(img);
    CHECK(image_from_json(again) == img);
    CHECK(again.find(R"("StartInterval":5,"Future":{"a":[1,2.50,"x\u003c"]}})") !=
          std::string::npos);
}

TEST_CASE("unknown member with HTML characters re-escaped", "[image][json]") {
    const image img = image_from_json(R"({"x": { "a" : "<&>" } })");
    CHECK(img.extra == extra_fields{{"x", R"({"a":"\u003c\u0026\u003e"})"}});
}

TEST_CASE("decoding follows Go's rules", "[image][json]") {
    SECTION("keys match ignoring case, exact match preferred") {
        const config c = config_from_json(R"({"user":"a","USER":"b"})");
        CHECK(c.user == "b");
        CHECK(c.extra.empty());
    }
    SECTION("a repeated key keeps the last value") {
        CHECK(config_from_json(R"({"User":"a","User":"b"})").user == "b");
    }
    SECTION("null leaves scalars unset and makes lists nil") {
        const config c = config_from_json(R"({"User":null,"Env":null,"Tty":null})");
        CHECK(c == config{});
    }
    SECTION("a command may be one string") {
        const config c = config_from_json(R"({"Cmd":"sh","Entrypoint":["a","b"]})");
        CHECK(c.cmd == std::vector<std::string>{"sh"});
        CHECK(c.entrypoint == std::vector<std::string>{"a", "b"});
    }
    SECTION("escapes and surrogate pairs decode") {
        const config c = config_from_json(R"({"User":"\u00e9\ud83d\udc33\ud800x\/"})");
        CHECK(c.user == "\xc3\xa9\xf0\x9f\x90\xb3\xef\xbf\xbdx/");
    }
    SECTION("invalid UTF-8 in the input becomes U+FFFD") {
        CHECK(config_from_json("{\"User\":\"a\xff\"}").user == "a\xef\xbf\xbd");
    }
    SECTION("a null element of a string list is empty") {
        CHECK(config_from_json(R"({"Env":["A=1",null]})").env ==
              std::vector<std::string>{"A=1", ""});
    }
}

TEST_CASE("decode error: malformed JSON", "[image][json][error]") {
    const json_error e = decode_error(R"({"os":"linux",})");
    CHECK(std::string(e.what()) ==
          "json: at offset 14: invalid character '}' looking for the beginning of an object "
          "key: '}'");
    CHECK(e.offset() == 14);
    CHECK(e.path().empty());
}

TEST_CASE("decode error: truncated JSON", "[image][json][error]") {
    CHECK(std::string(decode_error(R"({"os":"lin)").what()) ==
          "json: at offset 10: unexpected end of JSON input in a string");
}

TEST_CASE("decode error: trailing data", "[image][json][error]") {
    CHECK(std::string(decode_error(R"({} {})").what()) ==
          "json: at offset 3: unexpected data after the top-level value: '{}'");
}

TEST_CASE("decode error: wrong type names the field path", "[image][json][error]") {
    const json_error e = decode_error(R"({"config":{"Env":["A=1",2]}})");
    CHECK(std::string(e.what()) == "json: config.Env[1]: expected a string, got number: '2'");
    CHECK(e.path() == "config.Env[1]");
    CHECK(e.value() == "2");
    CHECK(e.offset() == 24);
}

TEST_CASE("decode error: invalid digest", "[image][json][error]") {
    const json_error e = decode_error(R"({"rootfs":{"type":"layers","diff_ids":["sha256:xyz"]}})");
    CHECK(std::string(e.what()) ==
          "json: rootfs.diff_ids[0]: invalid digest: sha256 needs 64 hex digits, got 3: "
          "'\"sha256:xyz\"'");
    CHECK(e.path() == "rootfs.diff_ids[0]");
}

TEST_CASE("decode error: invalid timestamp", "[image][json][error]") {
    const json_error e = decode_error(R"({"history":[{"created":"yesterday"}]})");
    CHECK(std::string(e.what()) ==
          "json: history[0].created: invalid timestamp: invalid year (expected RFC 3339, e.g. "
          "2023-11-14T22:13:20Z): '\"yesterday\"'");
}

TEST_CASE("decode error: integer with a fraction", "[image][json][error]") {
    CHECK(std::string(decode_error(R"({"Size":1.5})").what()) ==
          "json: Size: expected an integer, got a number with a fraction or exponent: '1.5'");
    CHECK(std::string(decode_error(R"({"Size":99999999999999999999})").what()) ==
          "json: Size: integer out of the range of a 64-bit signed integer: "
          "'99999999999999999999'");
}

TEST_CASE("decode error: not an object", "[image][json][error]") {
    CHECK(std::string(decode_error("[]").what()) ==
          "json: at offset 0: expected an object, got "
          "array: '[]'");
    CHECK(std::string(decode_error(R"({"config":[]})").what()) ==
          "json: config: expected an object, got array: '[]'");
    CHECK(std::string(decode_error(R"({"config":{"Volumes":{"/a":1}}})").what()) ==
          "json: config.Volumes./a: expected an empty object {}, got number: '1'");
}

TEST_CASE("decode error: control character in a string", "[image][json][error]") {
    CHECK(std::string(decode_error("{\"os\":\"a\nb\"}").what()) ==
          "json: at offset 8: invalid control character byte 0x0a in a string: '?b\"}'");
}

TEST_CASE("decode error: nesting too deep", "[image][json][error]") {
    const std::string deep = "{\"x\":" + std::string(2000, '[') + std::string(2000, ']') + "}";
    CHECK(std::string(decode_error(deep).reason()) == "nesting exceeds the maximum depth of 1000");
}

TEST_CASE("value types print as JSON", "[image]") {
    std::ostringstream out;
    out << history{};
    CHECK(out.str() == R"({"created":"0001-01-01T00:00:00Z"})");
}
