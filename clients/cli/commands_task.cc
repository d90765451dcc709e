#include <algorithm>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "commands.h"
#include "form_input.h"
#include "output.h"

namespace signoff::cli {

namespace {

using Stub = v1::TaskService::Stub;

struct TaskArgs {
  std::string id;
  std::string comment;
  std::string reason;
  std::string to;
  std::vector<std::string> users;
  // `task approve` takes several ids.
  std::vector<std::string> ids;
  std::string position;
  std::string result_file;
  std::vector<std::string> result_pairs;
  std::string by;
  std::string until;
  std::string request_id;

  std::string RequestId() const { return request_id.empty() ? NewRequestId() : request_id; }
};

absl::TimeZone ZoneOfTask(Cli& cli, const v1::Task& task) {
  return cli.zones().ForDefinition(task.definition_key(), task.definition_version());
}

absl::Status PrintTaskResponse(Cli& cli, const absl::StatusOr<v1::TaskResponse>& response) {
  return Show(cli, response, [&cli](const v1::TaskResponse& answer) {
    PrintTask(answer.task(), ZoneOfTask(cli, answer.task()));
  });
}

absl::Status PrintClockResponse(Cli& cli, const absl::StatusOr<v1::ClockResponse>& response) {
  return Show(cli, response, [&cli](const v1::ClockResponse& answer) {
    PrintClock(answer, ZoneOfTask(cli, answer.task()));
  });
}

// A request about the task's clock: ClockRequest or ExtendDeadlineRequest.
template <typename Request>
Request ClockRequestFor(const TaskArgs& args) {
  Request request;
  request.set_request_id(args.RequestId());
  request.set_task_id(args.id);
  request.set_comment(args.comment);
  return request;
}

absl::Status Extend(Cli& cli, const TaskArgs& args) {
  auto request = ClockRequestFor<v1::ExtendDeadlineRequest>(args);
  if (absl::Status filled = FillExtension(args.by, args.until, request); !filled.ok()) {
    return filled;
  }
  return PrintClockResponse(cli, cli.Connect().Call(cli.Connect().tasks(), &Stub::ExtendDeadline, request));
}

// The reason codes the task's definition offers for `action`.
const google::protobuf::RepeatedPtrField<v1::ReasonCode>& ReasonsFor(const v1::TaskActions& actions,
                                                                    v1::Action action) {
  return action == v1::REJECT ? actions.reject_reasons() : actions.return_reasons();
}

bool Lists(const google::protobuf::RepeatedField<int>& actions, v1::Action action) {
  return std::find(actions.begin(), actions.end(), action) != actions.end();
}

// "  code  label" lines, for a message that asks for one of them.
std::string CodeLines(const google::protobuf::RepeatedPtrField<v1::ReasonCode>& reasons) {
  size_t width = 0;
  for (const auto& reason : reasons) width = std::max(width, reason.code().size());
  std::string lines;
  for (const auto& reason : reasons) {
    absl::StrAppend(&lines, "\n  ", reason.code(),
                    reason.label().empty() ? "" : std::string(width - reason.code().size() + 2, ' '),
                    reason.label());
  }
  return lines;
}

// A reject or return names a reason code exactly when the task's
// definition lists codes for it, and only one of those. The task says
// which (its actions come from its definition version), so a missing or
// mistyped code is a usage error before anything is sent. Where the step
// does not allow the action at all, the server's refusal says so better.
absl::Status CheckReasonCode(Cli& cli, const TaskArgs& args, v1::Action action) {
  v1::GetTaskRequest request;
  request.set_id(args.id);
  auto found = cli.Connect().Call(cli.Connect().tasks(), &Stub::GetTask, request);
  if (!found.ok()) return found.status();
  const v1::TaskActions& actions = found->task().actions();
  if (!Lists(actions.allowed(), action)) return absl::OkStatus();
  const auto& reasons = ReasonsFor(actions, action);
  const std::string verb = absl::AsciiStrToLower(v1::Action_Name(action));
  const std::string list = absl::StrCat(found->task().definition_key(), "'s ", verb, " reasons");
  if (args.reason.empty()) {
    if (!Lists(actions.reason_required(), action)) return absl::OkStatus();
    return UsageError(absl::StrCat("task ", args.id, ": a ", verb, " needs --reason, one of ", list, ":",
                                   CodeLines(reasons)));
  }
  for (const auto& reason : reasons) {
    if (reason.code() == args.reason) return absl::OkStatus();
  }
  if (reasons.empty()) {
    return UsageError(absl::StrCat("--reason ", args.reason, ": ", found->task().definition_key(),
                                   " lists no ", verb, " reasons; leave --reason out"));
  }
  return UsageError(absl::StrCat("--reason ", args.reason, " is not one of ", list, ":", CodeLines(reasons)));
}

// The result fields the task's step declares, so that name=value pairs
// take their types (a number stays a number).
absl::StatusOr<v1::Form> ResultFieldsOf(Cli& cli, const std::string& task_id) {
  v1::GetTaskRequest task_request;
  task_request.set_id(task_id);
  auto found = cli.Connect().Call(cli.Connect().tasks(), &Stub::GetTask, task_request);
  if (!found.ok()) return found.status();
  v1::GetDefinitionRequest request;
  request.set_key(found->task().definition_key());
  request.set_version(found->task().definition_version());
  auto definition = cli.Connect().Call(cli.Connect().definitions(),
                                       &v1::DefinitionService::Stub::GetDefinition, request);
  if (!definition.ok()) return definition.status();
  v1::Form fields;
  for (const auto& step : definition->published().definition().steps()) {
    if (step.id() != found->task().step_id()) continue;
    *fields.mutable_fields() = step.has_task() ? step.task().result_fields()
                                               : step.system().result_fields();
  }
  return fields;
}

absl::StatusOr<google::protobuf::Struct> ResultOf(Cli& cli, const TaskArgs& args) {
  if (args.result_pairs.empty()) return ReadValuesFile(args.result_file, "the result");
  auto fields = ResultFieldsOf(cli, args.id);
  if (!fields.ok()) return fields.status();
  return BuildForm(args.result_pairs, args.result_file, *fields);
}

absl::Status Decide(Cli& cli, const TaskArgs& args, v1::Action action) {
  if (action == v1::REJECT || action == v1::RETURN) {
    auto checked = CheckReasonCode(cli, args, action);
    if (!checked.ok()) return checked;
  }
  v1::DecideTaskRequest request;
  request.set_request_id(args.RequestId());
  request.set_task_id(args.id);
  request.set_action(action);
  request.set_comment(args.comment);
  request.set_reason_code(args.reason);
  if (action == v1::RETURN) request.set_return_to_step(args.to);
  if (action == v1::TRANSFER || action == v1::DELEGATE) request.add_users(args.to);
  for (const auto& user : args.users) request.add_users(user);
  if (action == v1::ADD_SIGNER) {
    v1::SignerPosition position = v1::SIGNER_POSITION_UNSPECIFIED;
    v1::SignerPosition_Parse(absl::AsciiStrToUpper(args.position), &position);
    request.set_signer_position(position);
  }
  if (!args.result_file.empty() || !args.result_pairs.empty()) {
    auto result = ResultOf(cli, args);
    if (!result.ok()) return result.status();
    *request.mutable_result() = *result;
  }
  auto response = cli.Connect().Call(cli.Connect().tasks(), &Stub::DecideTask, request);
  if (!response.ok()) return response.status();
  if (cli.json()) {
    PrintJson(*response);
    return absl::OkStatus();
  }
  std::cout << v1::Action_Name(action) << " recorded on " << args.id << "; instance "
            << response->instance().id() << " is " << v1::InstanceStatus_Name(response->instance().status());
  if (response->instance().active_steps_size() > 0) {
    std::cout << " at " << absl::StrJoin(response->instance().active_steps(), ", ");
  }
  std::cout << "\n";
  return absl::OkStatus();
}

// Approves several tasks in one DecideTasks call. Each decision gets its
// own request id (PREFIX-TASK with --request-id), so that repeating the
// command repeats none of them. Every task gets a line; any failure makes
// the command fail with the first failure's code.
absl::Status ApproveMany(Cli& cli, const TaskArgs& args) {
  v1::DecideTasksRequest request;
  for (const auto& id : args.ids) {
    v1::DecideTaskRequest& decision = *request.add_decisions();
    decision.set_request_id(args.request_id.empty() ? NewRequestId()
                                                    : absl::StrCat(args.request_id, "-", id));
    decision.set_task_id(id);
    decision.set_action(v1::APPROVE);
    decision.set_comment(args.comment);
  }
  auto response = cli.Connect().Call(cli.Connect().tasks(), &Stub::DecideTasks, request);
  if (!response.ok()) return response.status();
  if (cli.json()) PrintJson(*response);
  int failed = 0;
  absl::StatusCode first_failure = absl::StatusCode::kOk;
  for (const auto& result : response->results()) {
    const auto code = static_cast<absl::StatusCode>(result.code());
    if (code != absl::StatusCode::kOk) {
      if (failed++ == 0) first_failure = code;
      std::cerr << result.task_id() << ": " << absl::StatusCodeToString(code) << ": "
                << result.message() << "\n";
      continue;
    }
    if (cli.json()) continue;
    const v1::InstanceView& instance = result.response().instance();
    std::cout << "APPROVE recorded on " << result.task_id() << "; instance " << instance.id()
              << " is " << v1::InstanceStatus_Name(instance.status()) << "\n";
  }
  if (failed == 0) return absl::OkStatus();
  return absl::Status(first_failure, absl::StrCat(failed, " of ", response->results_size(),
                                                  " approvals failed"));
}

struct ListArgs {
  std::string assignee;
  std::string role;
  std::string department;
  std::string status;
  std::string instance;
  bool overdue = false;
  std::string due_before;
  int limit = 50;
};

absl::Status List(Cli& cli, const ListArgs& args) {
  v1::ListTasksRequest request;
  request.set_assignee(args.assignee);
  request.set_role(args.role);
  request.set_department(args.department);
  request.set_instance_id(args.instance);
  request.set_overdue(args.overdue);
  if (!args.due_before.empty()) {
    auto due_before = ParseTimestamp("--due-before", args.due_before);
    if (!due_before.ok()) return due_before.status();
    *request.mutable_due_before() = *due_before;
  }
  v1::TaskStatus status = v1::TASK_STATUS_UNSPECIFIED;
  if (!args.status.empty()) {
    const std::string upper = absl::AsciiStrToUpper(args.status);
    if (!v1::TaskStatus_Parse(upper, &status) && !v1::TaskStatus_Parse("TASK_" + upper, &status)) {
      return UsageError(absl::StrCat("unknown task status '", args.status,
                                     "'; one of pending, waiting, done, cancelled"));
    }
  }
  request.set_status(status);
  v1::ListTasksResponse all;
  for (;;) {
    request.set_page_size(std::min(100, args.limit - all.tasks_size()));
    auto page = cli.Connect().Call(cli.Connect().tasks(), &Stub::ListTasks, request);
    if (!page.ok()) return page.status();
    for (auto& task : *page->mutable_tasks()) *all.add_tasks() = std::move(task);
    all.set_next_page_token(page->next_page_token());
    if (page->next_page_token().empty() || all.tasks_size() >= args.limit) break;
    request.set_page_token(page->next_page_token());
  }
  if (cli.json()) {
    PrintJson(all);
  } else {
    PrintTasks({all.tasks().begin(), all.tasks().end()}, cli.ZoneOfDefinition());
  }
  return absl::OkStatus();
}

CLI::App* TaskCommand(CLI::App& noun, const std::string& name, const std::string& description,
                      const std::string& example, TaskArgs& args) {
  CLI::App* command = Command(noun, name, description, example);
  command->add_option("id", args.id, "task id")->required();
  command->add_option("--request-id", args.request_id, "idempotency key; repeating it is safe");
  return command;
}

void OnRun(Cli& cli, CLI::App* command, std::shared_ptr<TaskArgs> args, v1::Action action) {
  command->callback([&cli, args, action] {
    cli.run = [&cli, args, action] { return Decide(cli, *args, action); };
  });
}

}  // namespace

void AddTaskCommands(CLI::App& app, Cli& cli) {
  auto* noun = Group(app, "task", "work the inbox: list, claim and decide tasks",
                     {"signoffctl --as tina.luo task list",
                      "signoffctl --as tina.luo task return i0001-t1 --reason missing_invoice --comment 'attach it'"});
  auto args = std::make_shared<TaskArgs>();

  auto list_args = std::make_shared<ListArgs>();
  auto* list = Command(*noun, "list", "your inbox, or tasks by assignee, group, status or due time",
                       "signoffctl --as alice.chen task list --assignee alice.chen --overdue");
  auto* assignee = list->add_option("--assignee", list_args->assignee, "tasks of this user");
  auto* role = list->add_option("--role", list_args->role, "candidate-group role");
  list->add_option("--department", list_args->department, "candidate-group department")->needs(role);
  assignee->excludes(role);
  list->add_option("--status", list_args->status, "pending, waiting, done, cancelled");
  list->add_option("--instance", list_args->instance, "tasks of one instance");
  list->add_flag("--overdue", list_args->overdue,
                 "only pending tasks past their deadline (everyone's, unless --assignee or --role)");
  list->add_option("--due-before", list_args->due_before,
                   "only pending tasks due before this RFC 3339 time, e.g. 2026-03-02T18:00:00+08:00");
  list->add_option("--limit", list_args->limit, "at most this many")->check(CLI::Range(1, 100000))->capture_default_str();
  list->callback([&cli, list_args] { cli.run = [&cli, list_args] { return List(cli, *list_args); }; });

  auto* get = Command(*noun, "get", "show one task", "signoffctl task get i0001-t1");
  get->add_option("id", args->id, "task id")->required();
  get->callback([&cli, args] {
    cli.run = [&cli, args] {
      v1::GetTaskRequest request;
      request.set_id(args->id);
      return PrintTaskResponse(cli, cli.Connect().Call(cli.Connect().tasks(), &Stub::GetTask, request));
    };
  });

  auto* claim = TaskCommand(*noun, "claim", "take a candidate-group task for yourself",
                            "signoffctl --as amy.song task claim i0001-t4", *args);
  claim->callback([&cli, args] {
    cli.run = [&cli, args] {
      v1::ClaimTaskRequest request;
      request.set_request_id(args->RequestId());
      request.set_id(args->id);
      return PrintTaskResponse(cli, cli.Connect().Call(cli.Connect().tasks(), &Stub::ClaimTask, request));
    };
  });

  auto* unclaim = TaskCommand(*noun, "unclaim",
                              "give a claimed candidate-group task back to its group (the claimer or an "
                              "administrator)",
                              "signoffctl --as amy.song task unclaim i0001-t4", *args);
  unclaim->add_option("--comment", args->comment, "why");
  unclaim->callback([&cli, args] {
    cli.run = [&cli, args] {
      v1::UnclaimTaskRequest request;
      request.set_request_id(args->RequestId());
      request.set_id(args->id);
      request.set_comment(args->comment);
      return PrintTaskResponse(cli, cli.Connect().Call(cli.Connect().tasks(), &Stub::UnclaimTask, request));
    };
  });

  auto* approve = Command(*noun, "approve", "approve one task, or several in one call",
                          "signoffctl --as alice.chen task approve i0001-t1 i0002-t1");
  approve->add_option("ids", args->ids, "task ids")->required();
  approve->add_option("--request-id", args->request_id,
                      "idempotency key (a prefix with several tasks); repeating it is safe");
  approve->add_option("--comment", args->comment, "a note for the record");
  approve->callback([&cli, args] {
    cli.run = [&cli, args] {
      if (args->ids.size() > 1) return ApproveMany(cli, *args);
      args->id = args->ids.front();
      return Decide(cli, *args, v1::APPROVE);
    };
  });

  auto* complete = TaskCommand(*noun, "complete", "finish a TASK or SYSTEM step, optionally with a result",
                               "signoffctl --as uma.deng task complete i0001-t6 --result qc_result=flag --result qc_reason=amount_inflated", *args);
  complete->add_option("--comment", args->comment, "a note for the record");
  complete->add_option("--result-file", args->result_file, "the work's result as YAML or JSON")
      ->check(CLI::ExistingFile);
  complete->add_option("--result", args->result_pairs,
                       "a result value, name=value, typed by the step's result fields (repeatable)");
  OnRun(cli, complete, args, v1::COMPLETE);

  auto* reject = TaskCommand(*noun, "reject",
                             "reject, with one of the definition's reject reason codes where it lists them",
                             "signoffctl --as ivy.wang task reject i0001-t2 --reason goals_not_met --comment 'see notes'",
                             *args);
  reject->add_option("--reason", args->reason,
                     "reject reason code; required when the definition lists them (`task get` shows them)");
  reject->add_option("--comment", args->comment, "why");
  OnRun(cli, reject, args, v1::REJECT);

  auto* back = TaskCommand(*noun, "return", "send back to the applicant, or --to an earlier step",
                           "signoffctl --as tina.luo task return i0001-t1 --reason missing_invoice "
                           "--comment 'attach the invoice'",
                           *args);
  back->add_option("--to", args->to, "an earlier step id (default: the applicant; `task get` lists them)");
  back->add_option("--reason", args->reason,
                   "return reason code; required when the definition lists them (`task get` shows them)");
  back->add_option("--comment", args->comment, "what to change")->required();
  OnRun(cli, back, args, v1::RETURN);

  auto* transfer = TaskCommand(*noun, "transfer", "hand the task over to someone else",
                               "signoffctl --as ivy.wang task transfer i0001-t2 --to henry.zhao", *args);
  transfer->add_option("--to", args->to, "user id")->required();
  transfer->add_option("--comment", args->comment, "why");
  OnRun(cli, transfer, args, v1::TRANSFER);

  auto* delegate = TaskCommand(*noun, "delegate", "let someone decide on your behalf",
                               "signoffctl --as ivy.wang task delegate i0001-t2 --to henry.zhao", *args);
  delegate->add_option("--to", args->to, "user id")->required();
  delegate->add_option("--comment", args->comment, "why");
  OnRun(cli, delegate, args, v1::DELEGATE);

  auto* add_signer = TaskCommand(*noun, "add-signer", "add a signer before, after or alongside you",
                                 "signoffctl --as ivy.wang task add-signer i0001-t2 --user henry.zhao --position before",
                                 *args);
  add_signer->add_option("--user", args->users, "user id")->required()->expected(1);
  add_signer->add_option("--position", args->position, "before, after or parallel")
      ->required()
      ->check(CLI::IsMember({"before", "after", "parallel"}));
  add_signer->add_option("--comment", args->comment, "why");
  OnRun(cli, add_signer, args, v1::ADD_SIGNER);

  auto* comment = TaskCommand(*noun, "comment", "add a comment to the record",
                              "signoffctl --as ivy.wang task comment i0001-t2 --text 'checking with finance'", *args);
  comment->add_option("--text", args->comment, "the comment")->required();
  OnRun(cli, comment, args, v1::COMMENT);

  auto* cc = TaskCommand(*noun, "cc", "copy others on the task",
                         "signoffctl --as ivy.wang task cc i0001-t2 --user linda.xu", *args);
  cc->add_option("--user", args->users, "user ids")->required();
  cc->add_option("--comment", args->comment, "a note");
  OnRun(cli, cc, args, v1::CC);

  auto* pause = TaskCommand(*noun, "pause", "stop the SLA clock of the task's step, e.g. while documents are awaited",
                            "signoffctl --as tina.luo task pause i0001-t1 --comment 'waiting for the invoice'",
                            *args);
  pause->add_option("--comment", args->comment, "why");
  pause->callback([&cli, args] {
    cli.run = [&cli, args] {
      return PrintClockResponse(cli, cli.Connect().Call(cli.Connect().tasks(), &Stub::PauseClock,
                                                        ClockRequestFor<v1::ClockRequest>(*args)));
    };
  });

  auto* resume = TaskCommand(*noun, "resume", "restart a paused SLA clock",
                             "signoffctl --as tina.luo task resume i0001-t1 --comment 'invoice received'", *args);
  resume->add_option("--comment", args->comment, "a note");
  resume->callback([&cli, args] {
    cli.run = [&cli, args] {
      return PrintClockResponse(cli, cli.Connect().Call(cli.Connect().tasks(), &Stub::ResumeClock,
                                                        ClockRequestFor<v1::ClockRequest>(*args)));
    };
  });

  auto* extend = TaskCommand(*noun, "extend", "move the step's deadline later, by a span or to a time",
                             "signoffctl --as tina.luo task extend i0001-t1 --by 1d4h --comment 'dealer on leave'",
                             *args);
  auto* by = extend->add_option("--by", args->by,
                                "how much later, e.g. 2d, 4h, 30m or 1d4h; on the SLA's own clock "
                                "(working time when it counts on a calendar)");
  auto* until = extend->add_option("--until", args->until,
                                   "the new deadline, an RFC 3339 time such as 2026-03-02T18:00:00+08:00");
  by->excludes(until);
  extend->add_option("--comment", args->comment, "why");
  extend->callback([&cli, args] { cli.run = [&cli, args] { return Extend(cli, *args); }; });

  auto* remind = TaskCommand(*noun, "remind", "nudge the assignee (applicant or administrator)",
                             "signoffctl --as bob.zhang task remind i0001-t2", *args);
  remind->add_option("--comment", args->comment, "a note");
  remind->callback([&cli, args] {
    cli.run = [&cli, args] {
      v1::RemindTaskRequest request;
      request.set_request_id(args->RequestId());
      request.set_id(args->id);
      request.set_comment(args->comment);
      return PrintTaskResponse(cli, cli.Connect().Call(cli.Connect().tasks(), &Stub::RemindTask, request));
    };
  });
}

}  // namespace signoff::cli
