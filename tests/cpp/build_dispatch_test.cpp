// The evaluator's dispatchers: exact history text, config fields and error messages.
#include <catch2/catch.hpp>
#include <dockwright/build/build_error.hpp>
#include <dockwright/build/evaluate.hpp>
#include <dockwright/build/stage_state.hpp>

using namespace dockwright;

namespace {

build_result run(const std::string& text, build_options options = {}) {
    options.classic = true;
    return evaluate(text, options);
}

std::vector<std::string> created_by(const build_result& result) {
    std::vector<std::string> out;
    for (const history& h : result.target().config.history)
        out.push_back(h.created_by);
    return out;
}

std::string failure(const std::string& text, build_options options = {}) {
    options.classic = true;
    try {
        (void)evaluate(text, options);
    } catch (const std::exception& e) {
        return classic_error_text(e);
    }
    return "no error";
}

}  // namespace

TEST_CASE("metadata steps are #(nop) commits with two spaces", "[build]") {
    const auto result = run("FROM scratch\nENV A=1 B=\"two words\"\nLABEL k=v\nUSER app\n");
    CHECK(created_by(result) == std::vector<std::string>{"/bin/sh -c #(nop)  ENV A=1 B=two words",
                                                         "/bin/sh -c #(nop)  LABEL k=v",
                                                         "/bin/sh -c #(nop)  USER app"});
    const config& cfg = *result.target().config.config;
    CHECK(cfg.env == std::vector<std::string>{std::string(default_path_env), "A=1", "B=two words"});
    CHECK(result.target().config.container_config.hostname.size() == 12);
}

TEST_CASE("RUN gets the |N prefix of declared build args", "[build]") {
    build_options options;
    options.build_args = {{"B", "cli"}, {"HTTP_PROXY", "p"}};
    const auto result = run("FROM scratch\nARG A=1\nARG B\nRUN echo $A\n", options);
    CHECK(created_by(result).back() == "|2 A=1 B=cli /bin/sh -c echo $A");
    CHECK_FALSE(result.target().steps.back().executed);
}

TEST_CASE("predefined proxy args stay out of the prefix", "[build]") {
    build_options options;
    options.build_args = {{"HTTP_PROXY", "p"}};
    CHECK(created_by(run("FROM scratch\nRUN true\n", options)).back() == "|0 /bin/sh -c true");
}

TEST_CASE("CMD, ENTRYPOINT, SHELL, VOLUME and HEALTHCHECK history use Go formatting", "[build]") {
    const auto result =
        run("FROM scratch\nCMD [\"a\", \"b\"]\nSHELL [\"/bin/sh\", \"-ec\"]\nCMD echo hi\n"
            "VOLUME /v /w\nHEALTHCHECK --interval=5s --retries=4 CMD true\nENTRYPOINT [\"/e\"]\n");
    CHECK(created_by(result) ==
          std::vector<std::string>{
              "/bin/sh -c #(nop)  CMD [\"a\" \"b\"]",
              // The SHELL step is already written with the new shell.
              "/bin/sh -ec #(nop)  SHELL [/bin/sh -ec]",
              "/bin/sh -ec #(nop)  CMD [\"/bin/sh\" \"-ec\" \"echo hi\"]",
              "/bin/sh -ec #(nop)  VOLUME [/v /w]",
              "/bin/sh -ec #(nop)  HEALTHCHECK &{[\"CMD-SHELL\" \"true\"] \"5s\" \"0s\" \"0s\" "
              "'\\x04'}",
              "/bin/sh -ec #(nop)  ENTRYPOINT [\"/e\"]"});
    // A CMD of this Dockerfile survives ENTRYPOINT.
    CHECK(result.target().config.config->cmd ==
          std::vector<std::string>{"/bin/sh", "-ec", "echo hi"});
}

TEST_CASE("EXPOSE expands ranges and lower-cases protocols", "[build]") {
    const auto result = run("FROM scratch\nEXPOSE 80 9000-9001 53/UDP\n");
    CHECK(created_by(result).back() == "/bin/sh -c #(nop)  EXPOSE 53/UDP 80 9000-9001");
    CHECK(result.target().config.config->exposed_ports ==
          std::set<std::string>{"53/udp", "80/tcp", "9000/tcp", "9001/tcp"});
}

TEST_CASE("WORKDIR resolves relative paths", "[build]") {
    const auto result = run("FROM scratch\nWORKDIR a\nWORKDIR ../b/./c/\n");
    CHECK(created_by(result).back() == "/bin/sh -c #(nop) WORKDIR /b/c");
}

TEST_CASE("label option adds sorted LABEL steps to the target stage", "[build]") {
    build_options options;
    options.labels = {{"z", "1"}, {"a", "$x"}};
    const auto result = run("FROM scratch AS one\nFROM scratch\n", options);
    CHECK(created_by(result) == std::vector<std::string>{"/bin/sh -c #(nop)  LABEL a=$x",
                                                         "/bin/sh -c #(nop)  LABEL z=1"});
}

TEST_CASE("unconsumed build args give Docker's warning", "[build]") {
    build_options options;
    options.build_args = {{"USED", "1"}, {"B", "2"}, {"A", "3"}};
    CHECK(run("FROM scratch\nARG USED\n", options).warnings ==
          std::vector<std::string>{"[Warning] One or more build-args [A B] were not consumed"});
}

TEST_CASE("error messages are Docker's", "[build]") {
    build_options target;
    target.target = "nosuchstage";
    CHECK(failure("FROM scratch\n", target) ==
          "Error response from daemon: failed to reach build target nosuchstage in Dockerfile");
    CHECK(failure("FROM $BASE\n") == "base name ($BASE) should not be blank");
    CHECK(failure("FROM scratch\nSTOPSIGNAL SIGNOTREAL\n") == "Invalid signal: SIGNOTREAL");
    CHECK(failure("ENV A=1\n") == "Error response from daemon: no build stage in current context");
    CHECK(failure("FROM scratch\nFOO bar\n") ==
          "Error response from daemon: dockerfile parse error line 2: unknown instruction: FOO");
    CHECK(failure("FROM scratch\nRUN --mount=type=cache,target=/c true\n") ==
          "Error response from daemon: dockerfile parse error line 2: Unknown flag: mount");
    CHECK(failure("FROM scratch\nCOPY --chmod=644 a /a\n") ==
          "the --chmod option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ "
          "to learn how to build images with BuildKit enabled");
    CHECK(failure("FROM scratch\nEXPOSE 80/xyz\n") == "invalid proto: xyz");
}
