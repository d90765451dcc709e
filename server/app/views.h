#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "signoff/v1/service.pb.h"

namespace signoff::app {

// The caller-facing view of an instance running on `definition`: its
// pending tasks with what each may do, and the waits under way. `now`
// decides which tasks show as overdue.
v1::InstanceView ViewOf(const v1::InstanceState& state, const v1::WorkflowDefinition& definition,
                        absl::Time now);

// A task as readers see it: overdue at `now`, with its actions under
// `definition`; `state`, when known, adds the steps a return may name.
void ShowTask(v1::Task& task, const v1::WorkflowDefinition& definition,
              const v1::InstanceState* state, absl::Time now);

// The WAIT steps under way, when each runs out, and which are paused.
std::vector<v1::WaitView> WaitsOf(const v1::InstanceState& state,
                                  const v1::WorkflowDefinition& definition);

// Reply builder for the pipeline. A reply shows the instance as committed;
// what is overdue is a read's question.
void InstanceReply(const v1::InstanceState& state, const v1::WorkflowDefinition& definition,
                   google::protobuf::Message& reply);

// The task `task_id` as the state holds it, or nullptr.
const v1::Task* TaskIn(const v1::InstanceState& state, const std::string& task_id);

}  // namespace signoff::app
