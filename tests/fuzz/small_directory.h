#pragma once

// An organisation for the fuzzers that check names against a directory.

#include "fuzz_input.h"
#include "workflow/directory.h"
#include "workflow/yaml_mapping.h"

namespace signoff::fuzz {

// Two departments, a manager chain, a role and a disabled user: enough for
// every kind of name the definition and form checks look up.
inline const workflow::Directory& SmallDirectory() {
  static const auto* const directory = new workflow::Directory(Required(workflow::ParseOrganisationYaml(R"(
departments:
  - {id: exec, name: Executive Office, head: grace.liu}
  - {id: sales-ops, name: Sales Operations, parent: exec, head: henry.zhao}
users:
  - {id: grace.liu, display_name: Grace Liu, department: exec}
  - id: henry.zhao
    display_name: Henry Zhao
    department: sales-ops
    manager: grace.liu
    roles: [{role: claims-reviewer, department: sales-ops}]
  - {id: bob.zhang, display_name: Bob Zhang, department: sales-ops, manager: henry.zhao}
  - {id: old.timer, display_name: Old Timer, department: sales-ops, disabled: true}
)")));
  return *directory;
}

}  // namespace signoff::fuzz
