#pragma once

#include <string>

#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "signoff/v1/service.pb.h"

namespace signoff::app {

// The caller-facing view of an instance; `now` decides which tasks show
// as overdue.
v1::InstanceView ViewOf(const v1::InstanceState& state, absl::Time now);

// Sets a task's read-time overdue flag.
void MarkOverdue(v1::Task& task, absl::Time now);

// Reply builders for the pipeline. A reply shows the instance as
// committed; what is overdue is a read's question.
void InstanceReply(const v1::InstanceState& state, google::protobuf::Message& reply);

// The task `task_id` as the state holds it, or nullptr.
const v1::Task* TaskIn(const v1::InstanceState& state, const std::string& task_id);

}  // namespace signoff::app
