#pragma once

// GoogleTest helpers for absl::Status, which Abseil 20220623 lacks.

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"

#define EXPECT_OK(expr) EXPECT_TRUE((expr).ok()) << ::signoff::testing::Describe(expr)
#define ASSERT_OK(expr)                                   \
  do {                                                    \
    const auto& signoff_s_ = (expr);                      \
    ASSERT_TRUE(signoff_s_.ok()) << ::signoff::testing::Describe(signoff_s_); \
  } while (false)

#define EXPECT_CODE(expr, code_value)                                   \
  EXPECT_EQ(::signoff::testing::CodeOf(expr), (code_value))             \
      << ::signoff::testing::Describe(expr)

#define ASSERT_OK_AND_ASSIGN(lhs, expr)                                    \
  auto SIGNOFF_TEST_CONCAT(signoff_or_, __LINE__) = (expr);                \
  ASSERT_TRUE(SIGNOFF_TEST_CONCAT(signoff_or_, __LINE__).ok())             \
      << ::signoff::testing::Describe(SIGNOFF_TEST_CONCAT(signoff_or_, __LINE__)); \
  lhs = std::move(SIGNOFF_TEST_CONCAT(signoff_or_, __LINE__)).value()

#define SIGNOFF_TEST_CONCAT_INNER(a, b) a##b
#define SIGNOFF_TEST_CONCAT(a, b) SIGNOFF_TEST_CONCAT_INNER(a, b)

namespace signoff::testing {

inline absl::StatusCode CodeOf(const absl::Status& s) { return s.code(); }
template <typename T>
absl::StatusCode CodeOf(const absl::StatusOr<T>& s) {
  return s.status().code();
}
inline std::string Describe(const absl::Status& s) { return s.ToString(); }
template <typename T>
std::string Describe(const absl::StatusOr<T>& s) {
  return s.status().ToString();
}

}  // namespace signoff::testing
