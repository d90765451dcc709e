#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "google/protobuf/struct.pb.h"
#include "signoff/v1/definition.pb.h"
#include "signoff/v1/instance.pb.h"
#include "workflow/directory.h"

namespace signoff::workflow {

// Checks form data against the definition's fields. Bad data gives
// INVALID_ARGUMENT with one violation per bad field (path "form.<name>").
// USER fields must name a directory user.
absl::Status ValidateForm(const signoff::v1::Form& form,
                          const google::protobuf::Struct& values,
                          const Directory& directory);

// ValidateForm's checks for any list of fields: violations are at
// "<prefix>.<name>", and a value no field declares is described as
// `unknown`. A job's result is checked this way against its step's
// result_fields.
absl::Status ValidateValues(
    const google::protobuf::RepeatedPtrField<signoff::v1::FormField>& fields,
    const google::protobuf::Struct& values, const Directory& directory,
    const std::string& prefix, const std::string& unknown);

// Fields whose values differ between two versions of a form, by name.
std::vector<signoff::v1::FormChange> DiffForms(
    const google::protobuf::Struct& before,
    const google::protobuf::Struct& after);

// A number, or a decimal string such as "1234.50" (money).
std::optional<double> AsNumber(const google::protobuf::Value& value);

// The string form of a scalar value: strings as they are, numbers without
// a trailing ".0", bools as true/false.
std::string AsText(const google::protobuf::Value& value);

bool IsEmptyValue(const google::protobuf::Value& value);

}  // namespace signoff::workflow
