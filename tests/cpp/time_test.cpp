// RFC 3339 timestamps as Go marshals time.Time, and Go durations.
#include <catch2/catch.hpp>
#include <dockwright/core/error.hpp>
#include <dockwright/core/time.hpp>

using dockwright::timestamp;

TEST_CASE("timestamp round trips Go RFC3339Nano", "[time]") {
    for (const char* text :
         {"2026-12-04T15:41:41.738403877Z", "2023-11-14T22:13:20Z", "2026-12-04T15:41:46.5Z",
          "2026-12-04T15:41:41.7461273Z", "2020-02-29T23:59:59.000000001+02:00",
          "1999-01-01T00:00:00-05:30", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z"}) {
        CHECK(timestamp::parse(text).str() == text);
    }
}

TEST_CASE("timestamp trims trailing zeros", "[time]") {
    CHECK(timestamp::parse("2023-11-14T22:13:20.500000000Z").str() == "2023-11-14T22:13:20.5Z");
    CHECK(timestamp::parse("2023-11-14T22:13:20.000Z").str() == "2023-11-14T22:13:20Z");
    CHECK(timestamp::parse("2023-11-14T22:13:20.1234567891Z").str() ==
          "2023-11-14T22:13:20.123456789Z");
    CHECK(timestamp::parse("2023-11-14T22:13:20+00:00").str() == "2023-11-14T22:13:20Z");
}

TEST_CASE("timestamp unix conversion", "[time]") {
    const timestamp t = timestamp::from_unix(1700000000);
    CHECK(t.str() == "2023-11-14T22:13:20Z");
    CHECK(timestamp::parse("2023-11-15T00:13:20+02:00").unix_seconds() == 1700000000);
    CHECK(timestamp::from_unix(0, 1).str() == "1970-01-01T00:00:00.000000001Z");
    CHECK(timestamp::from_unix(-1, 0).str() == "1969-12-31T23:59:59Z");
    CHECK(timestamp().is_zero());
    CHECK(timestamp().str() == "0001-01-01T00:00:00Z");
}

TEST_CASE("timestamp parse errors", "[time]") {
    const auto message = [](const char* text) -> std::string {
        try {
            (void)timestamp::parse(text);
        } catch (const dockwright::invalid_value_error& e) {
            return e.what();
        }
        return "no error";
    };
    CHECK(message("2023-02-29T00:00:00Z") ==
          "invalid timestamp '2023-02-29T00:00:00Z': day out of range (expected RFC 3339, e.g. "
          "2023-11-14T22:13:20Z)");
    CHECK(message("2023-11-14 22:13:20Z") ==
          "invalid timestamp '2023-11-14 22:13:20Z': expected 'T' between date and time "
          "(expected RFC 3339, e.g. 2023-11-14T22:13:20Z)");
    CHECK(message("2023-11-14T24:00:00Z") ==
          "invalid timestamp '2023-11-14T24:00:00Z': hour out of range (expected RFC 3339, e.g. "
          "2023-11-14T22:13:20Z)");
    CHECK(message("2023-11-14T22:13:20") ==
          "invalid timestamp '2023-11-14T22:13:20': expected 'Z' or a UTC offset such as +02:00 "
          "(expected RFC 3339, e.g. 2023-11-14T22:13:20Z)");
    CHECK(message("2023-11-14T22:13:20.Z") ==
          "invalid timestamp '2023-11-14T22:13:20.Z': missing digits after the decimal point "
          "(expected RFC 3339, e.g. 2023-11-14T22:13:20Z)");
    CHECK(message("2023-11-14T22:13:20Zjunk") ==
          "invalid timestamp '2023-11-14T22:13:20Zjunk': unexpected text after the timestamp "
          "(expected RFC 3339, e.g. 2023-11-14T22:13:20Z)");
}

TEST_CASE("Go duration formatting", "[time]") {
    using dockwright::format_go_duration;
    CHECK(format_go_duration(0) == "0s");
    CHECK(format_go_duration(5'000'000'000) == "5s");
    CHECK(format_go_duration(90'000'000'000) == "1m30s");
    CHECK(format_go_duration(60'000'000'000) == "1m0s");
    CHECK(format_go_duration(3'723'000'000'000) == "1h2m3s");
    CHECK(format_go_duration(3'600'000'000'000) == "1h0m0s");
    CHECK(format_go_duration(500'000'000) == "500ms");
    CHECK(format_go_duration(1'500'000'000) == "1.5s");
    CHECK(format_go_duration(2'000) == "2\u00b5s");
    CHECK(format_go_duration(1'500) == "1.5\u00b5s");
    CHECK(format_go_duration(7) == "7ns");
    CHECK(format_go_duration(-90'000'000'000) == "-1m30s");
    CHECK(format_go_duration(INT64_MIN) == "-2562047h47m16.854775808s");
}

TEST_CASE("Go duration parsing", "[time]") {
    using dockwright::parse_go_duration;
    CHECK(parse_go_duration("30s") == 30'000'000'000);
    CHECK(parse_go_duration("1m30s") == 90'000'000'000);
    CHECK(parse_go_duration("1.5h") == 5'400'000'000'000);
    CHECK(parse_go_duration("300ms") == 300'000'000);
    CHECK(parse_go_duration("2us") == 2'000);
    CHECK(parse_go_duration("2\u00b5s") == 2'000);
    CHECK(parse_go_duration("-1s") == -1'000'000'000);
    CHECK(parse_go_duration("0") == 0);
    CHECK(parse_go_duration(".5s") == 500'000'000);
    CHECK_THROWS_WITH(parse_go_duration("10"),
                      "invalid duration '10': missing unit (expected e.g. 30s, 1m30s, 1.5h or "
                      "300ms)");
    CHECK_THROWS_WITH(parse_go_duration("5d"),
                      "invalid duration '5d': unknown unit 'd' (expected e.g. 30s, 1m30s, 1.5h "
                      "or 300ms)");
    CHECK_THROWS_WITH(parse_go_duration(""),
                      "invalid duration '': empty duration (expected e.g. 30s, 1m30s, 1.5h or "
                      "300ms)");
    CHECK_THROWS_WITH(parse_go_duration("9999999999h"),
                      "invalid duration '9999999999h': duration out of range (expected e.g. 30s, "
                      "1m30s, 1.5h or 300ms)");
}
