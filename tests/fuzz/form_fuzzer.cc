// Form values checked against a form's fields. The input is the values as
// YAML or JSON (as signoffctl reads them), or a Form in YAML, a "---" line,
// then the values; without a Form, one with a field of every type is used.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "small_directory.h"
#include "google/protobuf/struct.pb.h"
#include "signoff/v1/definition.pb.h"
#include "workflow/form.h"
#include "workflow/limits.h"
#include "workflow/yaml_mapping.h"

namespace {

using signoff::fuzz::Required;
namespace v1 = ::signoff::v1;
namespace workflow = ::signoff::workflow;

std::optional<v1::Form> ParseForm(const std::string& yaml) {
  v1::Form form;
  if (!workflow::ParseYamlInto(yaml, form).empty()) return std::nullopt;
  return form;
}

const v1::Form& EveryFieldType() {
  static const auto* const form = new v1::Form(ParseForm(R"(
fields:
  - {name: dealer_id, type: STRING, required: true, pattern: "[A-Z0-9][A-Z0-9-]{2,31}"}
  - {name: note, type: STRING, min: 2, max: 200}
  - {name: score, type: NUMBER, min: -10, max: 10}
  - {name: amount, type: MONEY, required: true, min: 0, max: 1000000}
  - {name: urgent, type: BOOL}
  - {name: due, type: DATE}
  - {name: kind, type: ENUM, values: [warranty, marketing, other]}
  - {name: reviewer, type: USER}
  - {name: tags, type: LIST, item_type: ENUM, values: [a, b, c], max: 3}
  - {name: amounts, type: LIST, item_type: MONEY, min: 1}
  - {name: watchers, type: LIST, item_type: USER}
  - {name: dates, type: LIST, item_type: DATE}
)").value());
  return *form;
}

const google::protobuf::Struct& SomeValues() {
  static const auto* const values = new google::protobuf::Struct(
      Required(workflow::ParseFormYaml("{dealer_id: D-001, amount: '1234.50', tags: [a]}")));
  return *values;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  signoff::fuzz::IgnoreInvalidUtf8Logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // signoff takes no larger form in a request.
  if (size > workflow::kMaxStructBytes) return -1;
  auto [first, second] = signoff::fuzz::SplitDocuments(signoff::fuzz::TextOf(data, size));
  std::optional<v1::Form> fuzzed_form;
  if (second) {
    fuzzed_form = ParseForm(first);
    if (!fuzzed_form) return 0;
  }
  const v1::Form& form = second ? *fuzzed_form : EveryFieldType();
  auto values = workflow::ParseFormYaml(second ? *second : first);
  if (!values.ok()) return 0;
  workflow::ValidateForm(form, *values, signoff::fuzz::SmallDirectory()).IgnoreError();
  workflow::DiffForms(SomeValues(), *values);
  for (const auto& [name, value] : values->fields()) {
    workflow::AsNumber(value);
    workflow::AsText(value);
  }
  return 0;
}
