#pragma once

// Early-return helpers for absl::Status and absl::StatusOr, in the shape of
// RETURN_NOT_OK / ASSIGN_OR_RAISE. Abseil 20220623 ships none. The prefix
// keeps them from clashing with another library's macros of the same idea.

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SIGNOFF_CONCAT_INNER(a, b) a##b
#define SIGNOFF_CONCAT(a, b) SIGNOFF_CONCAT_INNER(a, b)

#define SIGNOFF_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    ::absl::Status signoff_status_ = (expr);           \
    if (!signoff_status_.ok()) return signoff_status_; \
  } while (false)

#define SIGNOFF_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return std::move(tmp).status();      \
  lhs = std::move(tmp).value()

#define SIGNOFF_ASSIGN_OR_RETURN(lhs, expr) \
  SIGNOFF_ASSIGN_OR_RETURN_IMPL(SIGNOFF_CONCAT(signoff_or_, __LINE__), lhs, expr)
