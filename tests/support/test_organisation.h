#pragma once

namespace signoff::testing {

// A small organisation: ann and bo report to mia, who reports to sam (head
// of sales), who reports to ceo, the administrator; aud is the auditor.
inline constexpr char kTestOrganisation[] = R"(
departments:
  - {id: root, name: Company, head: ceo}
  - {id: sales, name: Sales, parent: root, head: sam}
  - {id: fin, name: Finance, parent: root, head: fiona}
  - {id: hr, name: HR, parent: root, head: hana}
users:
  - {id: ceo, department: root, roles: [{role: workflow-admin}, {role: process-admin}]}
  - {id: sam, department: sales, manager: ceo}
  - {id: mia, department: sales, manager: sam}
  - {id: ann, department: sales, manager: mia}
  - {id: bo, department: sales, manager: mia}
  - {id: fiona, department: fin, manager: ceo, roles: [{role: finance-reviewer}]}
  - {id: fred, department: fin, manager: fiona, roles: [{role: finance-reviewer}]}
  - {id: hana, department: hr, manager: ceo}
  - {id: hal, department: hr, manager: hana, roles: [{role: hrbp}]}
  - {id: hue, department: hr, manager: hana, roles: [{role: hrbp}]}
  - {id: aud, department: root, manager: ceo, roles: [{role: auditor}]}
  - {id: svc, department: root, service: true}
  - {id: watcher, department: root, service: true, roles: [{role: watch-events}]}
  - {id: gone, department: sales, manager: mia, disabled: true}
)";

}  // namespace signoff::testing
