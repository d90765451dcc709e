// Definition YAML, as PublishDefinition receives it: mapped onto the
// WorkflowDefinition message and, when that succeeds, validated.

#include <cstddef>
#include <cstdint>

#include "small_directory.h"
#include "workflow/limits.h"
#include "workflow/validation.h"
#include "workflow/yaml_mapping.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  signoff::fuzz::IgnoreInvalidUtf8Logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Larger definitions are refused before they are parsed.
  if (size > signoff::workflow::kMaxDefinitionBytes) return -1;
  auto definition = signoff::workflow::ParseDefinitionYaml(signoff::fuzz::TextOf(data, size));
  if (!definition.ok()) return 0;
  signoff::workflow::ValidateDefinition(*definition);
  signoff::workflow::ValidateDefinition(*definition, &signoff::fuzz::SmallDirectory());
  return 0;
}
