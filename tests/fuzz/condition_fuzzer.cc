// A structured condition evaluated against form values. The input is a
// Condition in YAML (as definitions write them under `when:`), a "---"
// line, then the form values; without the values, a fixed form is used.

#include <cstddef>
#include <cstdint>

#include "fuzz_input.h"
#include "google/protobuf/struct.pb.h"
#include "signoff/v1/definition.pb.h"
#include "workflow/conditions.h"
#include "workflow/limits.h"
#include "workflow/yaml_mapping.h"

namespace {

namespace v1 = ::signoff::v1;
namespace workflow = ::signoff::workflow;

const google::protobuf::Struct& SomeValues() {
  static const auto* const values =
      new google::protobuf::Struct(signoff::fuzz::Required(workflow::ParseFormYaml(R"(
application_type: claim
amount: "120000.50"
score: 7
data_adjustment: true
region: sales-east
tags: [warranty, urgent]
due: 2026-01-05
note: ""
)")));
  return *values;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  signoff::fuzz::IgnoreInvalidUtf8Logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > workflow::kMaxStructBytes) return -1;
  auto [first, second] = signoff::fuzz::SplitDocuments(signoff::fuzz::TextOf(data, size));
  v1::Condition condition;
  if (!workflow::ParseYamlInto(first, condition).empty()) return 0;
  google::protobuf::Struct fuzzed_values;
  if (second) {
    auto values = workflow::ParseFormYaml(*second);
    if (!values.ok()) return 0;
    fuzzed_values = *std::move(values);
  }
  const google::protobuf::Struct& values = second ? fuzzed_values : SomeValues();
  workflow::Evaluate(condition, values);
  workflow::Evaluate(condition, values, "instance-1");
  for (const v1::Sample* sample : workflow::SamplesIn(condition)) {
    workflow::SampleDraw(sample->seed(), "instance-1");
  }
  return 0;
}
