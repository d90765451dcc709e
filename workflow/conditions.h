#pragma once

#include <string>
#include <vector>

#include "google/protobuf/struct.pb.h"
#include "signoff/v1/definition.pb.h"

namespace signoff::workflow {

// Evaluates a structured condition against form values. A comparison on a
// missing field is false (NE and NOT_IN are true), so routing never fails
// on optional fields.
//
// `instance_id` feeds sample conditions; without one a sample
// never holds.
bool Evaluate(const signoff::v1::Condition& condition,
              const google::protobuf::Struct& form,
              const std::string& instance_id = "");

// The number in [0, 1) that a sample condition draws for an instance: a
// fixed 64-bit hash of seed and id, so the draw is reproducible by anyone
// holding both, on any machine and in any release.
double SampleDraw(const std::string& seed, const std::string& instance_id);

// The sample conditions inside `condition`, in evaluation order.
std::vector<const signoff::v1::Sample*> SamplesIn(const signoff::v1::Condition& condition);

}  // namespace signoff::workflow
