#include "storage/dialect.h"

namespace signoff::storage {

std::string WithoutBoundValues(const std::string& message) {
  std::string kept = message;
  const size_t values = kept.find("\" with :");
  if (values != std::string::npos) kept.resize(values + 1);
  // PostgreSQL's DETAIL line quotes the row: "Key (subject)=(...)".
  const size_t detail = kept.find("\nDETAIL:");
  if (detail != std::string::npos) kept.erase(detail, kept.find("\n", detail + 1) - detail);
  return kept;
}

}  // namespace signoff::storage
