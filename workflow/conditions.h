#pragma once

#include "google/protobuf/struct.pb.h"
#include "signoff/v1/definition.pb.h"

namespace signoff::workflow {

// Evaluates a structured condition against form values. A comparison on a
// missing field is false (NE and NOT_IN are true), so routing never fails
// on optional fields.
bool Evaluate(const signoff::v1::Condition& condition,
              const google::protobuf::Struct& form);

}  // namespace signoff::workflow
