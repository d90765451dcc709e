#pragma once

namespace signoff::testing {

// A definition with one job for the test organisation: svc rates the
// risk; a high one goes to a 2-of-3 committee, any other to sam; the
// error needs-review sends it to hal and back.
inline constexpr char kVettingDefinition[] = R"(
key: vetting
name: Vetting
form:
  fields:
    - {name: amount, type: NUMBER, required: true}
service_accounts: [svc]
steps:
  - id: check
    system:
      job_type: risk-check
      workers: [{user: svc}]
      result_fields:
        - {name: risk_level, type: ENUM, required: true, values: [low, high]}
        - {name: score, type: NUMBER, min: 0, max: 100}
      retries: 2
      errors: [{code: needs-review, to: review}]
    next:
      - when: {field: risk_level, op: EQ, value: high}
        to: committee
      - to: ops
  - id: review
    task: {assignees: [{user: hal}]}
    next: [{to: check}]
  - id: committee
    approval: {approvers: [{user: fiona}, {user: fred}, {user: hal}], policy: QUORUM, quorum: 2}
    next: [{to: done}]
  - id: ops
    approval: {approvers: [{user: sam}]}
    next: [{to: done}]
  - {id: done, end: {}}
)";

}  // namespace signoff::testing
