#include "storage/dialect.h"

namespace signoff::storage {

std::string WithoutBoundValues(const std::string& message) {
  const size_t values = message.find("\" with :");
  return values == std::string::npos ? message : message.substr(0, values + 1);
}

}  // namespace signoff::storage
