#include "workflow/validation.h"

#include <functional>
#include <map>
#include <optional>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "re2/re2.h"
#include "workflow/attachments.h"
#include "workflow/definition_index.h"
#include "workflow/jobs.h"
#include "workflow/ledger_validation.h"
#include "workflow/ledgers.h"
#include "workflow/limits.h"
#include "workflow/problems.h"
#include "workflow/time_validation.h"

namespace signoff::workflow {

namespace v1 = ::signoff::v1;

namespace {

constexpr char kOutcomeRule[] =
    "must be an upper-case identifier: A-Z, digits and _, starting with a letter, at most 64";

bool IsOutcomeName(const std::string& name) {
  static const RE2 kOutcome("[A-Z][A-Z0-9_]{0,63}");
  return RE2::FullMatch(name, kOutcome);
}

// Collects problems while walking one definition.
class Validator {
 public:
  Validator(const v1::WorkflowDefinition& definition, const Directory* directory,
            const CalendarSet* calendars)
      : definition_(definition), index_(definition), directory_(directory),
        calendars_(calendars) {}

  std::vector<v1::Problem> Run() {
    // Past these bounds nothing else is looked at: a definition that size
    // is refused whatever else it holds.
    if (definition_.steps_size() > kMaxSteps) {
      Add("steps", absl::StrCat("has ", definition_.steps_size(), " steps; at most ", kMaxSteps));
      return std::move(problems_);
    }
    for (int i = 0; i < definition_.steps_size(); ++i) {
      step_positions_.emplace(definition_.steps(i).id(), i);
    }
    CheckHeader();
    CheckForm();
    CheckSteps();
    for (auto& problem : ValidateTimeSettings(definition_, index_, directory_, calendars_)) {
      problems_.push_back(std::move(problem));
    }
    for (auto& problem : ValidateLedgersAndSchedule(definition_)) {
      problems_.push_back(std::move(problem));
    }
    if (problems_.empty()) CheckGraph();
    return std::move(problems_);
  }

 private:
  void Add(const std::string& path, const std::string& message) {
    problems_.push_back(ProblemAt(path, message));
  }

  const v1::FormField* FormField(const std::string& name) const {
    return FindFormField(definition_, name);
  }

  // A form field, or a field some job's or task's result brings into the
  // instance's data.
  const v1::FormField* Field(const std::string& name) const {
    return FindDataField(definition_, name);
  }

  void CheckOutcomes() {
    std::set<std::string> declared;
    for (int i = 0; i < definition_.outcomes_size(); ++i) {
      const std::string& code = definition_.outcomes(i).code();
      const std::string path = absl::StrCat("outcomes[", i, "].code");
      if (!IsOutcomeName(code)) {
        Add(path, kOutcomeRule);
      } else if (!declared.insert(code).second) {
        Add(path, absl::StrCat("duplicate outcome '", code, "'"));
      }
    }
  }

  void CheckEndOutcome(const v1::EndStep& end, const std::string& path) {
    const std::string& outcome = end.outcome();
    if (outcome.empty()) {
      if (definition_.outcomes_size() > 0) {
        Add(path + ".outcome", "the definition lists outcomes: name one of them");
      }
      return;
    }
    if (!IsOutcomeName(outcome)) {
      Add(path + ".outcome", kOutcomeRule);
      return;
    }
    if (definition_.outcomes_size() == 0) return;
    std::vector<std::string> codes;
    for (const auto& declared : definition_.outcomes()) {
      if (declared.code() == outcome) return;
      codes.push_back(declared.code());
    }
    Add(path + ".outcome", absl::StrCat("'", outcome, "' is not one of the definition's outcomes: ",
                                        absl::StrJoin(codes, ", ")));
  }

  void CheckHeader() {
    static const RE2 kKey("[a-z][a-z0-9-]{0,62}");
    if (!RE2::FullMatch(definition_.key(), kKey)) {
      Add("key", "must be lowercase letters, digits and dashes, starting with a letter");
    }
    if (definition_.steps_size() == 0) Add("steps", "a definition needs at least one step");
    if (!definition_.start_step().empty() && !index_.Find(definition_.start_step())) {
      Add("start_step", absl::StrCat("unknown step '", definition_.start_step(), "'"));
    }
    if (definition_.has_subject()) {
      const auto* field = FormField(definition_.subject().field());
      if (field == nullptr) {
        Add("subject.field",
            absl::StrCat("unknown form field '", definition_.subject().field(), "'"));
      } else if (field->type() == v1::LIST || field->type() == v1::BOOL ||
                 field->type() == v1::ATTACHMENT) {
        Add("subject.field", "the subject must be a single value");
      }
    }
    std::set<std::string> codes;
    for (int i = 0; i < definition_.reject_reasons_size(); ++i) {
      const auto& code = definition_.reject_reasons(i).code();
      const std::string path = absl::StrCat("reject_reasons[", i, "].code");
      if (code.empty()) Add(path, "must not be empty");
      if (!codes.insert(code).second) Add(path, absl::StrCat("duplicate code '", code, "'"));
    }
    if (definition_.appeal().allowed() && !definition_.appeal().to_step().empty()) {
      CheckTopLevelTarget("appeal.to_step", definition_.appeal().to_step());
    }
    CheckRules("cc_on_finish", definition_.cc_on_finish(), /*may_be_empty=*/true);
    CheckServiceAccounts();
    CheckVisibility();
    CheckReportSettings();
    CheckOutcomes();
  }

  void CheckReportSettings() {
    const v1::ReportSettings& reports = definition_.reports();
    if (!reports.resolution_step().empty() && !index_.Find(reports.resolution_step())) {
      Add("reports.resolution_step",
          absl::StrCat("unknown step '", reports.resolution_step(), "'"));
    }
    if (reports.rating_field().empty()) return;
    const v1::FormField* field = Field(reports.rating_field());
    if (field == nullptr) {
      Add("reports.rating_field", absl::StrCat("unknown field '", reports.rating_field(), "'"));
    } else if (field->type() != v1::NUMBER) {
      Add("reports.rating_field", "a rating must be a NUMBER field");
    }
  }

  void CheckVisibility() {
    // The subject names the instance in lists, tasks and filters, where
    // nothing is redacted.
    for (int i = 0; i < definition_.form().fields_size(); ++i) {
      const v1::FormField& field = definition_.form().fields(i);
      if (field.confidential() && definition_.has_subject() &&
          field.name() == definition_.subject().field()) {
        Add(absl::StrCat("form.fields[", i, "].confidential"),
            "the subject field names the instance wherever it is listed and cannot be "
            "confidential");
      }
    }
    const v1::Visibility& visibility = definition_.visibility();
    if (visibility.managers_above() > kMaxManagersAbove) {
      Add("visibility.managers_above", absl::StrCat("must be at most ", kMaxManagersAbove));
    }
    for (int i = 0; i < visibility.viewers_size(); ++i) {
      const v1::ViewerRole& viewer = visibility.viewers(i);
      const std::string path = absl::StrCat("visibility.viewers[", i, "]");
      if (viewer.role().empty()) Add(path + ".role", "must not be empty");
      if (directory_ != nullptr && !viewer.department().empty() &&
          directory_->FindDepartment(viewer.department()) == nullptr) {
        Add(path + ".department", absl::StrCat("unknown department '", viewer.department(), "'"));
      }
    }
  }

  void CheckServiceAccounts() {
    std::set<std::string> listed;
    for (int i = 0; i < definition_.service_accounts_size(); ++i) {
      const std::string& id = definition_.service_accounts(i);
      const std::string path = absl::StrCat("service_accounts[", i, "]");
      if (!listed.insert(id).second) Add(path, absl::StrCat("duplicate '", id, "'"));
      if (directory_ == nullptr) continue;
      const v1::User* user = directory_->FindUser(id);
      if (user == nullptr) {
        Add(path, absl::StrCat("unknown user '", id, "'"));
      } else if (!user->service()) {
        Add(path, absl::StrCat("'", id, "' is a person, not a service account"));
      }
    }
    if (directory_ == nullptr) return;
    for (int i = 0; i < definition_.steps_size(); ++i) {
      const v1::Step& step = definition_.steps(i);
      if (!step.has_system()) continue;
      for (int w = 0; w < step.system().workers_size(); ++w) {
        const std::string& id = step.system().workers(w).user();
        const v1::User* user = id.empty() ? nullptr : directory_->FindUser(id);
        if (user != nullptr && user->service() && !listed.count(id)) {
          Add(absl::StrCat("steps[", i, "].system.workers[", w, "].user"),
              absl::StrCat("service account '", id,
                           "' may complete this step only if service_accounts lists it"));
        }
      }
    }
  }

  void CheckForm() {
    std::set<std::string> names;
    for (int i = 0; i < definition_.form().fields_size(); ++i) {
      CheckField(definition_.form().fields(i), absl::StrCat("form.fields[", i, "]"), names);
    }
    CheckAttachmentLimits(definition_.attachments());
  }

  void CheckAttachmentLimits(const v1::AttachmentLimits& limits) {
    if (limits.max_bytes() < 0) Add("attachments.max_bytes", "must not be negative");
    for (int i = 0; i < limits.media_types_size(); ++i) {
      const std::string& type = limits.media_types(i);
      const bool wildcard = absl::EndsWith(type, "/*") && IsMediaType(type.substr(0, type.size() - 1) + "x");
      if (!IsMediaType(type) && !wildcard) {
        Add(absl::StrCat("attachments.media_types[", i, "]"),
            "must be a lowercase media type such as application/pdf or image/*");
      }
    }
  }

  void CheckField(const v1::FormField& field, const std::string& path,
                  std::set<std::string>& names) {
    static const RE2 kName("[A-Za-z_][A-Za-z0-9_]{0,62}");
    if (!RE2::FullMatch(field.name(), kName)) {
      Add(path + ".name", "must be a letter or _ followed by letters, digits or _");
    }
    if (!names.insert(field.name()).second) {
      Add(path + ".name", absl::StrCat("duplicate field '", field.name(), "'"));
    }
    if (field.type() == v1::FIELD_TYPE_UNSPECIFIED) Add(path + ".type", "must be set");
    const bool is_enum = field.type() == v1::ENUM ||
                         (field.type() == v1::LIST && field.item_type() == v1::ENUM);
    if (is_enum && field.values_size() == 0) Add(path + ".values", "an enum needs values");
    if (field.type() == v1::LIST &&
        (field.item_type() == v1::FIELD_TYPE_UNSPECIFIED || field.item_type() == v1::LIST)) {
      Add(path + ".item_type", "a list needs a scalar item type");
    }
    if (!field.pattern().empty() && !RE2(field.pattern(), RE2::Quiet).ok()) {
      Add(path + ".pattern", "is not a valid regular expression");
    }
    if (field.has_min() && field.has_max() && field.min() > field.max()) {
      Add(path + ".max", "must not be below min");
    }
  }

  // Result fields of a job or a task: merged into the instance's data,
  // they must not shadow a form field, and they show in the audit trail.
  void CheckResultFields(const google::protobuf::RepeatedPtrField<v1::FormField>& fields,
                         const std::string& path) {
    std::set<std::string> names;
    for (int f = 0; f < fields.size(); ++f) {
      const v1::FormField& field = fields.Get(f);
      const std::string field_path = absl::StrCat(path, ".result_fields[", f, "]");
      CheckField(field, field_path, names);
      if (field.confidential()) {
        Add(field_path + ".confidential",
            "a result field cannot be confidential: results are part of the audit trail, "
            "which readers see whole");
      }
      if (field.type() == v1::ATTACHMENT ||
          (field.type() == v1::LIST && field.item_type() == v1::ATTACHMENT)) {
        Add(field_path + ".type",
            "a result field cannot hold attachments: files join an instance through its "
            "form, where their upload and uploader are checked");
      }
      if (FormField(field.name()) != nullptr) {
        Add(field_path + ".name",
            absl::StrCat("'", field.name(), "' is already a form field; a result merged into "
                         "the instance's data would overwrite it"));
      }
    }
  }

  // A job's type, retries, result fields and error routes; a SYSTEM step
  // without a job_type takes none of the others.
  void CheckJob(const v1::SystemStep& system, const std::string& path) {
    if (system.job_type().empty()) {
      if (system.result_fields_size() > 0) {
        Add(path + ".result_fields", "only a job (a step with job_type) returns result fields");
      }
      if (system.errors_size() > 0) {
        Add(path + ".errors", "only a job (a step with job_type) throws errors");
      }
      if (system.retries() != 0) {
        Add(path + ".retries", "only a job (a step with job_type) is retried");
      }
      return;
    }
    static const RE2 kJobType("[a-z0-9][a-z0-9._-]{0,63}");
    if (!RE2::FullMatch(system.job_type(), kJobType)) {
      Add(path + ".job_type",
          "must be 1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or "
          "digit");
    }
    if (system.retries() > static_cast<uint32_t>(kMaxJobRetries)) {
      Add(path + ".retries", absl::StrCat("must be at most ", kMaxJobRetries));
    }
    CheckResultFields(system.result_fields(), path);
    std::set<std::string> codes;
    for (int e = 0; e < system.errors_size(); ++e) {
      const v1::ErrorRoute& route = system.errors(e);
      const std::string route_path = absl::StrCat(path, ".errors[", e, "]");
      static const RE2 kCode("[A-Za-z0-9_.-]{1,64}");
      if (!RE2::FullMatch(route.code(), kCode)) {
        Add(route_path + ".code", "must be 1-64 letters, digits, '.', '_' or '-'");
      } else if (!codes.insert(route.code()).second) {
        Add(route_path + ".code", absl::StrCat("duplicate error code '", route.code(), "'"));
      }
      if (!index_.Find(route.to())) {
        Add(route_path + ".to", absl::StrCat("unknown step '", route.to(), "'"));
      }
    }
  }

  void CheckSteps() {
    std::set<std::string> ids;
    for (int i = 0; i < definition_.steps_size(); ++i) {
      const auto& step = definition_.steps(i);
      const std::string path = absl::StrCat("steps[", i, "]");
      static const RE2 kId("[A-Za-z0-9_.-]{1,64}");
      if (!RE2::FullMatch(step.id(), kId)) {
        Add(path + ".id", "must be 1-64 letters, digits, '.', '_' or '-'");
      }
      if (!ids.insert(step.id()).second) {
        Add(path + ".id", absl::StrCat("duplicate step id '", step.id(), "'"));
      }
      CheckStep(step, path);
    }
    for (const auto& id : index_.conflicting_steps()) {
      Add(StepPath(id), "belongs to more than one parallel branch");
    }
  }

  std::string StepPath(const std::string& id) const {
    auto it = step_positions_.find(id);
    return it == step_positions_.end() ? "steps" : absl::StrCat("steps[", it->second, "]");
  }

  void CheckStep(const v1::Step& step, const std::string& path) {
    switch (step.kind_case()) {
      case v1::Step::kApproval: {
        const auto& approval = step.approval();
        CheckRules(path + ".approval.approvers", approval.approvers(), false);
        if (approval.policy() == v1::QUORUM && approval.quorum() == 0) {
          Add(path + ".approval.quorum", "QUORUM needs a quorum of at least 1");
        }
        if (approval.policy() != v1::QUORUM && approval.quorum() != 0) {
          Add(path + ".approval.quorum", "only QUORUM takes a quorum");
        }
        if (approval.policy() == v1::QUORUM) CheckQuorumReachable(approval, path);
        break;
      }
      case v1::Step::kTask:
        CheckRules(path + ".task.assignees", step.task().assignees(), false);
        CheckResultFields(step.task().result_fields(), path + ".task");
        break;
      case v1::Step::kSystem:
        CheckRules(path + ".system.workers", step.system().workers(), false);
        CheckJob(step.system(), path + ".system");
        break;
      case v1::Step::kParallel:
        CheckParallel(step, path + ".parallel");
        break;
      case v1::Step::kEnd:
        if (step.next_size() > 0) Add(path + ".next", "an end step has no routes");
        CheckEndOutcome(step.end(), path + ".end");
        break;
      case v1::Step::kWait:
        break;
      default:
        Add(path, "must have one of approval, task, system, wait, parallel, end");
    }
    CheckRoutes(step, path);
    CheckRules(path + ".cc", step.cc(), true);
    if (!step.on_reject().empty()) CheckTopLevelTarget(path + ".on_reject", step.on_reject());
  }

  void CheckRoutes(const v1::Step& step, const std::string& path) {
    bool has_default = false;
    for (int r = 0; r < step.next_size(); ++r) {
      const auto& route = step.next(r);
      const std::string route_path = absl::StrCat(path, ".next[", r, "]");
      if (!index_.Find(route.to())) {
        Add(route_path + ".to", absl::StrCat("unknown step '", route.to(), "'"));
      }
      if (route.has_when()) {
        CheckCondition(route.when(), route_path + ".when");
      } else {
        has_default = true;
      }
    }
    if (step.next_size() > 0 && !has_default) {
      Add(path + ".next", "needs a last route without `when`, so that some route always holds");
    }
  }

  void CheckCondition(const v1::Condition& condition, const std::string& path) {
    const int kinds = (condition.all_size() > 0) + (condition.any_size() > 0) +
                      condition.has_not_() + !condition.field().empty() +
                      condition.has_sample();
    if (kinds != 1) {
      Add(path, "must be exactly one of: a comparison (field, op, value), all, any, not, sample");
      return;
    }
    if (condition.has_sample()) {
      const double rate = condition.sample().rate();
      if (!(rate >= 0.0 && rate <= 1.0)) Add(path + ".sample.rate", "must be between 0 and 1");
      if (condition.sample().seed().empty()) {
        Add(path + ".sample.seed", "must be set, so that the draw can be reproduced");
      }
      return;
    }
    for (int i = 0; i < condition.all_size(); ++i) {
      CheckCondition(condition.all(i), absl::StrCat(path, ".all[", i, "]"));
    }
    for (int i = 0; i < condition.any_size(); ++i) {
      CheckCondition(condition.any(i), absl::StrCat(path, ".any[", i, "]"));
    }
    if (condition.has_not_()) CheckCondition(condition.not_(), path + ".not");
    if (condition.field().empty()) return;
    if (Field(condition.field()) == nullptr && !IsLedgerOperand(definition_, condition.field())) {
      Add(path + ".field", absl::StrCat("unknown form field '", condition.field(), "'"));
    }
    const auto op = condition.op();
    if (op == v1::OPERATOR_UNSPECIFIED) Add(path + ".op", "must be set");
    const bool wants_list = op == v1::IN || op == v1::NOT_IN;
    const bool has_list =
        condition.value().kind_case() == google::protobuf::Value::kListValue;
    if (wants_list != has_list && op != v1::IS_SET && op != v1::OPERATOR_UNSPECIFIED) {
      Add(path + ".value", wants_list ? "IN and NOT_IN take a list" : "must be a single value");
    }
  }

  void CheckParallel(const v1::Step& step, const std::string& path) {
    const auto& parallel = step.parallel();
    if (parallel.branches_size() == 0) Add(path + ".branches", "needs at least one branch");
    std::set<std::string> ids;
    for (int b = 0; b < parallel.branches_size(); ++b) {
      const auto& branch = parallel.branches(b);
      const std::string branch_path = absl::StrCat(path, ".branches[", b, "]");
      if (branch.id().empty()) Add(branch_path + ".id", "must not be empty");
      if (!ids.insert(branch.id()).second) {
        Add(branch_path + ".id", absl::StrCat("duplicate branch '", branch.id(), "'"));
      }
      const v1::Step* start = index_.Find(branch.start());
      if (start == nullptr) {
        Add(branch_path + ".start", absl::StrCat("unknown step '", branch.start(), "'"));
      } else if (start->has_end()) {
        Add(branch_path + ".start", "a branch cannot start at an end step");
      }
      if (branch.has_when()) CheckCondition(branch.when(), branch_path + ".when");
    }
    if (parallel.join() == v1::JOIN_N &&
        (parallel.n() == 0 || static_cast<int>(parallel.n()) > parallel.branches_size())) {
      Add(path + ".n", "JOIN_N needs n between 1 and the number of branches");
    }
    if (step.next_size() == 0) Add(absl::StrCat(path.substr(0, path.rfind('.')), ".next"),
                                   "a parallel step needs a route for after the join");
  }

  void CheckTopLevelTarget(const std::string& path, const std::string& id) {
    if (!index_.Find(id)) {
      Add(path, absl::StrCat("unknown step '", id, "'"));
    } else if (!index_.ScopeOf(id).parallel.empty()) {
      Add(path, absl::StrCat("step '", id, "' is inside a parallel branch"));
    }
  }

  // The most approvers `rule` can ever resolve; nullopt when a form field
  // decides, which has no bound here.
  std::optional<size_t> MostResolvedBy(const v1::ApproverRule& rule) const {
    switch (rule.rule_case()) {
      case v1::ApproverRule::kRole:
        if (rule.role().candidate_group()) return 1;
        // Without a department the applicant's decides: at most all holders.
        return directory_->HoldersOf(rule.role().name(), rule.role().department()).size();
      case v1::ApproverRule::kDepartmentHead:
        if (!rule.department_head().from_field().empty()) return std::nullopt;
        return 1;
      case v1::ApproverRule::kFormField: {
        const v1::FormField* field = Field(rule.form_field());
        if (field != nullptr && field->type() == v1::LIST) return std::nullopt;
        return 1;
      }
      default:
        return 1;
    }
  }

  void CheckQuorumReachable(const v1::ApprovalStep& approval, const std::string& path) {
    if (directory_ == nullptr || approval.quorum() == 0) return;
    size_t most = 0;
    for (const auto& rule : approval.approvers()) {
      std::optional<size_t> resolved = MostResolvedBy(rule);
      if (!resolved) return;
      most += *resolved;
    }
    if (approval.quorum() > most) {
      Add(path + ".approval.quorum",
          absl::StrCat("a quorum of ", approval.quorum(), " can never be met: the approver rules ",
                       "resolve at most ", most, " approver(s)"));
    }
  }

  void CheckRules(const std::string& path,
                  const google::protobuf::RepeatedPtrField<v1::ApproverRule>& rules,
                  bool may_be_empty) {
    if (rules.empty() && !may_be_empty) Add(path, "names no one: add at least one rule");
    for (int i = 0; i < rules.size(); ++i) CheckRule(rules[i], absl::StrCat(path, "[", i, "]"));
  }

  void CheckRule(const v1::ApproverRule& rule, const std::string& path) {
    switch (rule.rule_case()) {
      case v1::ApproverRule::kUser:
        if (rule.user().empty()) Add(path + ".user", "names no one");
        else CheckUserExists(path + ".user", rule.user());
        break;
      case v1::ApproverRule::kRole:
        if (rule.role().name().empty()) Add(path + ".role.name", "names no role");
        CheckDepartmentExists(path + ".role.department", rule.role().department());
        if (directory_ != nullptr && !rule.role().name().empty() &&
            directory_->HoldersOf(rule.role().name(), "").empty()) {
          Add(path + ".role.name",
              absl::StrCat("no one in the directory holds role '", rule.role().name(), "'"));
        }
        break;
      case v1::ApproverRule::kManagerLevel:
        if (rule.manager_level() == 0 || rule.manager_level() > 10) {
          Add(path + ".manager_level", "must be between 1 and 10");
        }
        break;
      case v1::ApproverRule::kDepartmentHead:
        CheckDepartmentExists(path + ".department_head.department",
                              rule.department_head().department());
        if (!rule.department_head().from_field().empty()) {
          CheckFieldType(path + ".department_head.from_field",
                         rule.department_head().from_field(), v1::STRING);
        }
        break;
      case v1::ApproverRule::kFormField:
        CheckFieldType(path + ".form_field", rule.form_field(), v1::USER);
        break;
      case v1::ApproverRule::kApplicant:
        if (!rule.applicant()) Add(path + ".applicant", "names no one unless true");
        break;
      case v1::ApproverRule::kSubjectManagerLevel:
        if (rule.subject_manager_level() == 0 || rule.subject_manager_level() > 10) {
          Add(path + ".subject_manager_level", "must be between 1 and 10");
        }
        CheckSubjectIsUser(path + ".subject_manager_level");
        break;
      case v1::ApproverRule::kSubjectDepartmentHead:
        if (!rule.subject_department_head()) {
          Add(path + ".subject_department_head", "names no one unless true");
        }
        CheckSubjectIsUser(path + ".subject_department_head");
        break;
      case v1::ApproverRule::kSubject:
        if (!rule.subject()) Add(path + ".subject", "names no one unless true");
        CheckSubjectIsUser(path + ".subject");
        break;
      default:
        Add(path, "names no one: set one of user, role, manager_level, department_head, "
                  "form_field, applicant, subject_manager_level, subject_department_head, "
                  "subject");
    }
  }

  // Subject-relative rules find people from the subject's place in the
  // directory, so the subject must be a directory user.
  void CheckSubjectIsUser(const std::string& path) {
    if (!definition_.has_subject()) {
      Add(path, "resolves from the subject, but the definition names no subject");
      return;
    }
    const v1::FormField* field = Field(definition_.subject().field());
    if (field != nullptr && field->type() != v1::USER) {
      Add(path, absl::StrCat("resolves from the subject, which must then be a USER field; '",
                             field->name(), "' is ", v1::FieldType_Name(field->type())));
    }
  }

  // A field holding `scalar` values, alone or in a list; STRING also
  // accepts ENUM.
  void CheckFieldType(const std::string& path, const std::string& name,
                      v1::FieldType scalar) {
    const v1::FormField* field = Field(name);
    if (field == nullptr) {
      Add(path, absl::StrCat("unknown form field '", name, "'"));
      return;
    }
    v1::FieldType type = field->type() == v1::LIST ? field->item_type() : field->type();
    const bool fits = type == scalar || (scalar == v1::STRING && type == v1::ENUM);
    if (!fits) Add(path, absl::StrCat("field '", name, "' must hold ", v1::FieldType_Name(scalar),
                                      " values"));
  }

  void CheckUserExists(const std::string& path, const std::string& id) {
    if (directory_ != nullptr && directory_->FindUser(id) == nullptr) {
      Add(path, absl::StrCat("unknown user '", id, "'"));
    }
  }

  void CheckDepartmentExists(const std::string& path, const std::string& id) {
    if (directory_ != nullptr && !id.empty() && directory_->FindDepartment(id) == nullptr) {
      Add(path, absl::StrCat("unknown department '", id, "'"));
    }
  }

  // Reachability from the start, and a way to an end from every step.
  // Reachability from the start, and a way to an end from every step.
  // Both walk each route once, so validation stays linear in the size of
  // the definition.
  void CheckGraph() {
    std::set<std::string> reachable;
    std::vector<std::string> pending = {index_.start_step()};
    if (definition_.appeal().allowed() && !definition_.appeal().to_step().empty()) {
      pending.push_back(definition_.appeal().to_step());
    }
    while (!pending.empty()) {
      const std::string id = std::move(pending.back());
      pending.pop_back();
      const v1::Step* step = index_.Find(id);
      if (step == nullptr || !reachable.insert(id).second) continue;
      for (std::string& target : TargetsOf(*step)) pending.push_back(std::move(target));
      if (!step->on_reject().empty()) pending.push_back(step->on_reject());
      for (const auto& branch : step->parallel().branches()) pending.push_back(branch.start());
    }
    for (const auto& step : definition_.steps()) {
      if (!reachable.count(step.id())) {
        Add(StepPath(step.id()), absl::StrCat("step '", step.id(), "' is unreachable"));
      }
    }
    CheckFinishes();
  }

  // A top-level step finishes when it can reach an END; a branch step when
  // it can reach the end of its branch (a step with no routes). Found by
  // walking the routes backwards from the steps that finish by themselves.
  void CheckFinishes() {
    std::map<std::string, std::vector<std::string>> routed_from;
    std::vector<std::string> pending;
    for (const auto& step : definition_.steps()) {
      for (const std::string& target : TargetsOf(step)) routed_from[target].push_back(step.id());
      const bool in_branch = !index_.ScopeOf(step.id()).parallel.empty();
      if (step.has_end() || (in_branch && step.next_size() == 0)) pending.push_back(step.id());
    }
    std::set<std::string> finishes;
    while (!pending.empty()) {
      const std::string id = std::move(pending.back());
      pending.pop_back();
      if (!finishes.insert(id).second) continue;
      auto sources = routed_from.find(id);
      if (sources == routed_from.end()) continue;
      for (const std::string& source : sources->second) pending.push_back(source);
    }
    for (const auto& step : definition_.steps()) {
      const bool in_branch = !index_.ScopeOf(step.id()).parallel.empty();
      if (in_branch && step.has_end()) {
        Add(StepPath(step.id()), "an end step cannot be inside a parallel branch");
      } else if (!finishes.count(step.id())) {
        Add(StepPath(step.id()),
            absl::StrCat("step '", step.id(), "' has no way to ",
                         in_branch ? "the end of its branch" : "an end step"));
      }
    }
  }

  const v1::WorkflowDefinition& definition_;
  DefinitionIndex index_;
  const Directory* directory_;
  const CalendarSet* calendars_;
  std::vector<v1::Problem> problems_;
  // Each step id's first position, for problem paths.
  std::map<std::string, int> step_positions_;
};

}  // namespace

std::vector<v1::Problem> ValidateDefinition(const v1::WorkflowDefinition& definition,
                                            const Directory* directory,
                                            const CalendarSet* calendars) {
  return Validator(definition, directory, calendars).Run();
}

}  // namespace signoff::workflow
