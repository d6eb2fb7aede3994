// Tests of the instruction check: typed instructions, stages and every check message.
#include <catch2/catch.hpp>
#include <dockwright/dockerfile/instructions.hpp>
#include <dockwright/dockerfile/parser.hpp>

using namespace dockwright;

namespace {

dockerfile check(std::string_view text, dockerfile_dialect dialect = dockerfile_dialect::buildkit) {
    parse_options options;
    options.dialect = dialect;
    return check_instructions(parse_dockerfile(text, options), {"Dockerfile", dialect});
}

/// Returns "<our message>|<Docker's message>" for text the check rejects.
std::string failure(std::string_view text,
                    dockerfile_dialect dialect = dockerfile_dialect::buildkit) {
    try {
        check(text, dialect);
    } catch (const dockerfile_instruction_error& e) {
        return std::string(e.what()) + "|" + e.docker_message();
    }
    return "accepted";
}

}  // namespace

TEST_CASE("instructions group into stages", "[instructions]") {
    const dockerfile file = check(
        "ARG V=1\nFROM --platform=linux/amd64 img:$V AS Builder\nRUN make\n"
        "FROM scratch\nCOPY --from=builder --chmod=755 /a /b/\nCMD [\"/b/a\"]\n"
        "HEALTHCHECK --interval=30s --retries=3 CMD curl -f x\nEXPOSE 80 443 22\n");
    REQUIRE(file.meta_args.size() == 1);
    CHECK(file.meta_args[0].arguments[0] == arg_definition{"V", "1"});
    REQUIRE(file.stages.size() == 2);
    CHECK(file.stages[0].from.stage_name == "builder");
    CHECK(file.stages[0].from.platform == "linux/amd64");
    CHECK(file.stages[0].from.start_line == 2);
    const auto& copy = std::get<copy_instruction>(file.stages[1].instructions[0]);
    CHECK(copy.from == "builder");
    CHECK(copy.chmod == "755");
    CHECK(copy.sources == std::vector<std::string>{"/a"});
    CHECK(copy.destination == "/b/");
    const auto& cmd = std::get<cmd_instruction>(file.stages[1].instructions[1]);
    CHECK(cmd.command == command_line{{"/b/a"}, false});
    const auto& health = std::get<healthcheck_instruction>(file.stages[1].instructions[2]);
    CHECK(health.test == std::vector<std::string>{"CMD-SHELL", "curl -f x"});
    CHECK(health.interval == std::chrono::seconds(30));
    CHECK(health.retries == 3);
    const auto& expose = std::get<expose_instruction>(file.stages[1].instructions[3]);
    CHECK(expose.ports == std::vector<std::string>{"22", "443", "80"});
}

TEST_CASE("instruction check messages", "[instructions]") {
    CHECK(failure("FROM a\nFOO x\n") ==
          "Dockerfile:2: FOO: unknown instruction: 'FOO'|"
          "dockerfile parse error line 2: unknown instruction: FOO");
    CHECK(failure("FROM a\nCOPY --link a b\n", dockerfile_dialect::classic) ==
          "Dockerfile:2: COPY: unknown flag: 'link'|"
          "dockerfile parse error line 2: Unknown flag: link");
    CHECK(failure("FROM a\nCOPY --from=x --from=y a b\n") ==
          "Dockerfile:2: COPY: flag given more than once: 'from'|"
          "dockerfile parse error line 2: Duplicate flag specified: from");
    CHECK(failure("FROM a\nCOPY --from a b\n") ==
          "Dockerfile:2: COPY: missing value for flag: 'from'|"
          "dockerfile parse error line 2: Missing a value on flag: from");
    CHECK(failure("FROM a\nCOPY --link=maybe a b\n") ==
          "Dockerfile:2: COPY: invalid boolean value for flag --link: 'maybe'|"
          "dockerfile parse error line 2: Expecting boolean value for flag link, not: maybe");
    CHECK(failure("FROM a\nADD a\n") ==
          "Dockerfile:2: ADD: requires at least two arguments, a source and a destination: "
          "'ADD a'|dockerfile parse error line 2: ADD requires at least two arguments, but only "
          "one was provided. Destination could not be determined");
    CHECK(failure("FROM a b\n") ==
          "Dockerfile:1: FROM: requires either one or three arguments (image [AS name]): "
          "'FROM a b'|dockerfile parse error line 1: FROM requires either one or three arguments");
    CHECK(failure("FROM a AS 1x\n") ==
          "Dockerfile:1: FROM: invalid stage name: it must start with a letter and contain only "
          "letters, digits, '-', '_' and '.': '1x'|dockerfile parse error line 1: invalid name "
          "for build stage: \"1x\", name can't start with a number or contain symbols");
    CHECK(failure("RUN x\n") ==
          "Dockerfile:1: RUN: instruction before the first FROM: 'RUN'|"
          "no build stage in current context");
    CHECK(failure("FROM a\nWORKDIR\n") ==
          "Dockerfile:2: WORKDIR: requires exactly one argument: 'WORKDIR'|"
          "dockerfile parse error line 2: WORKDIR requires exactly one argument");
    CHECK(failure("FROM a\nSHELL sh -c\n") ==
          "Dockerfile:2: SHELL: requires the arguments in JSON form: 'SHELL sh -c'|"
          "dockerfile parse error line 2: SHELL requires the arguments to be in JSON form");
    CHECK(failure("FROM a\nONBUILD ONBUILD RUN x\n") ==
          "Dockerfile:2: ONBUILD: ONBUILD cannot trigger ONBUILD: 'ONBUILD'|"
          "dockerfile parse error line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    CHECK(failure("FROM a\nONBUILD FROM b\n") ==
          "Dockerfile:2: ONBUILD: instruction is not allowed as an ONBUILD trigger: 'FROM'|"
          "dockerfile parse error line 2: \"FROM\" isn't allowed as an ONBUILD trigger");
    CHECK(failure("FROM a\nHEALTHCHECK NONE x\n") ==
          "Dockerfile:2: HEALTHCHECK: HEALTHCHECK NONE takes no arguments: "
          "'HEALTHCHECK NONE x'|dockerfile parse error line 2: HEALTHCHECK NONE takes no "
          "arguments");
    CHECK(failure("FROM a\nHEALTHCHECK --interval=5 CMD x\n") ==
          "Dockerfile:2: HEALTHCHECK: invalid duration for --interval: '5'|"
          "dockerfile parse error line 2: time: missing unit in duration \"5\"");
    CHECK(failure("FROM a\nHEALTHCHECK --retries=0 CMD x\n") ==
          "Dockerfile:2: HEALTHCHECK: --retries must be at least 1: '0'|"
          "dockerfile parse error line 2: --retries must be at least 1 (not 0)");
    CHECK(failure("FROM a\nHEALTHCHECK FOO x\n") ==
          "Dockerfile:2: HEALTHCHECK: unknown HEALTHCHECK type, expected CMD or NONE: 'FOO'|"
          "dockerfile parse error line 2: Unknown type \"FOO\" in HEALTHCHECK (try CMD)");
    CHECK(failure("FROM a\nARG =x\n") ==
          "Dockerfile:2: ARG: name must not be empty: '=x'|"
          "dockerfile parse error line 2: ARG names can not be blank");
    CHECK(failure("FROM a\nVOLUME\n") ==
          "Dockerfile:2: VOLUME: requires at least one argument: 'VOLUME'|"
          "dockerfile parse error line 2: VOLUME requires at least one argument");
}
