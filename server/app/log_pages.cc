#include "server/app/log_pages.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "workflow/errors.h"

namespace signoff::app {

absl::StatusOr<int> LogPageSize(const char* after_field, int64_t after, int32_t page_size) {
  std::vector<workflow::FieldViolation> violations;
  if (after < 0) {
    violations.push_back({after_field, "must be 0 or a position already read"});
  }
  if (page_size < 0 || page_size > kMaxLogPageSize) {
    violations.push_back({"page_size", absl::StrCat("must be 0 (", kDefaultLogPageSize, ") to ",
                                                    kMaxLogPageSize)});
  }
  if (!violations.empty()) return workflow::InvalidArgumentWithViolations("bad page", violations);
  return page_size == 0 ? kDefaultLogPageSize : page_size;
}

}  // namespace signoff::app
