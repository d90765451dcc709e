#include "server/app/bulk_load.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cmath>
#include <mutex>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "workflow/form.h"
#include "workflow/status_macros.h"

namespace signoff::app {

namespace {

using google::protobuf::Value;

// Enough for the largest loads the benchmark makes, with room to spare.
constexpr int64_t kMaxInstances = int64_t{100} * 1000 * 1000;
constexpr int kMaxThreads = 256;

// Users who may apply: enabled, and with a manager, since most approval
// steps start with the applicant's manager. Sorted, so that the same
// directory spreads a load the same way.
std::vector<std::string> Applicants(const workflow::Directory& directory) {
  std::vector<std::string> applicants;
  for (const auto& user : directory.organisation().users()) {
    if (!user.disabled() && !user.manager().empty()) applicants.push_back(user.id());
  }
  std::sort(applicants.begin(), applicants.end());
  return applicants;
}

// Fills the forms of one definition: instance n gets a form of its own,
// its subject unique within the load.
class FormMaker {
 public:
  // Settles on the first identifier shape whose form the definition
  // accepts; if none is, the first start reports why.
  FormMaker(const v1::WorkflowDefinition& definition, std::string load_tag, absl::CivilDay today,
            const workflow::Directory& directory, const std::string& sample_applicant)
      : definition_(definition), load_tag_(std::move(load_tag)), today_(today) {
    for (identifier_shape_ = 0; identifier_shape_ < kIdentifierShapes; ++identifier_shape_) {
      if (workflow::ValidateForm(definition_.form(), Make(0, sample_applicant), directory).ok()) {
        return;
      }
    }
    identifier_shape_ = 0;
  }

  google::protobuf::Struct Make(int64_t n, const std::string& applicant) const {
    google::protobuf::Struct form;
    for (const auto& field : definition_.form().fields()) {
      const bool subject = field.name() == definition_.subject().field();
      if (!field.required() && !subject) continue;
      Value& value = (*form.mutable_fields())[field.name()];
      if (field.type() == v1::LIST) {
        *value.mutable_list_value()->add_values() =
            Scalar(field, field.item_type(), n, applicant, subject);
      } else {
        value = Scalar(field, field.type(), n, applicant, subject);
      }
    }
    return form;
  }

 private:
  Value Scalar(const v1::FormField& field, v1::FieldType type, int64_t n,
               const std::string& applicant, bool subject) const {
    Value value;
    switch (type) {
      case v1::NUMBER:
      case v1::MONEY:
        value.set_number_value(Number(field));
        break;
      case v1::BOOL:
        value.set_bool_value(false);
        break;
      case v1::DATE:
        value.set_string_value(absl::FormatCivilTime(today_ + 30));
        break;
      case v1::ENUM:
        if (field.values_size() > 0) {
          value.set_string_value(field.values(static_cast<int>(n % field.values_size())));
        }
        break;
      case v1::USER:
        value.set_string_value(applicant);
        break;
      default:
        value.set_string_value(Text(field, n, subject));
        break;
    }
    return value;
  }

  // The middle of the bounds, or the one bound there is, so that a
  // [0, 1] rate and an amount of at least 100 both fit.
  static double Number(const v1::FormField& field) {
    if (field.has_min() && field.has_max()) {
      const double middle = (field.min() + field.max()) / 2;
      return field.max() - field.min() >= 2 ? std::floor(middle) : middle;
    }
    if (field.has_min()) return field.min();
    if (field.has_max()) return std::min(0.0, field.max());
    return 0;
  }

  // An identifier for subjects and patterned fields, in the chosen shape;
  // prose for the rest, fitted to the length bounds.
  std::string Text(const v1::FormField& field, int64_t n, bool subject) const {
    if (subject || !field.pattern().empty()) {
      const std::string identifier = absl::StrCat("BL", load_tag_, "-", n);
      switch (identifier_shape_) {
        case 0: return identifier;
        case 1: return absl::AsciiStrToLower(identifier);
        default: return absl::StrCat(load_tag_, n);
      }
    }
    std::string text = absl::StrCat("Bulk-loaded ", field.name(), " of instance ", n, ".");
    const size_t min = field.has_min() ? static_cast<size_t>(std::max(0.0, field.min())) : 0;
    while (text.size() < min) text += " More text to reach the length the form asks for.";
    if (field.has_max() && text.size() > static_cast<size_t>(field.max())) {
      text.resize(static_cast<size_t>(std::max(field.max(), 0.0)));
    }
    return text;
  }

  // Upper-case, lower-case, or digits and hex only.
  static constexpr int kIdentifierShapes = 3;

  const v1::WorkflowDefinition& definition_;
  const std::string load_tag_;
  const absl::CivilDay today_;
  int identifier_shape_ = 0;
};

absl::Status CheckOptions(const BulkLoadOptions& options) {
  if (options.instances < 1 || options.instances > kMaxInstances) {
    return absl::InvalidArgumentError(
        absl::StrCat("the instance count must be between 1 and ", kMaxInstances, ", not ",
                     options.instances));
  }
  if (options.threads < 1 || options.threads > kMaxThreads) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the thread count must be between 1 and ", kMaxThreads, ", not ", options.threads));
  }
  if (options.definition_keys.empty()) {
    return absl::InvalidArgumentError("name at least one definition to start");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<BulkLoadResult> BulkLoad(Application& app, const BulkLoadOptions& options) {
  SIGNOFF_RETURN_IF_ERROR(CheckOptions(options));
  // Pinned for the whole load, like every start's definition_version.
  std::vector<std::shared_ptr<const v1::PublishedDefinition>> definitions;
  for (const auto& key : options.definition_keys) {
    SIGNOFF_ASSIGN_OR_RETURN(auto definition, app.context().Definition(key, 0));
    definitions.push_back(std::move(definition));
  }
  const std::shared_ptr<const workflow::Directory> directory = app.context().directory();
  const std::vector<std::string> applicants = Applicants(*directory);
  if (applicants.empty()) {
    return absl::FailedPreconditionError(
        "the directory has no enabled user with a manager to apply; load an organisation "
        "first (--directory)");
  }
  const absl::Time began = absl::Now();
  // Real time, not the application's clock: two loads with the same --as-of
  // must still differ.
  const std::string load_tag = absl::StrFormat("%X", absl::ToUnixMicros(began));
  const absl::CivilDay today = absl::ToCivilDay(app.context().Now(), absl::UTCTimeZone());
  std::vector<FormMaker> forms;
  for (const auto& definition : definitions) {
    forms.emplace_back(definition->definition(), load_tag, today, *directory, applicants.front());
  }

  std::atomic<int64_t> next{0};
  std::atomic<int64_t> started{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;
  std::condition_variable finished;
  int running = options.threads;
  absl::Status first_failure;

  auto start_some = [&] {
    while (!failed) {
      const int64_t n = next++;
      if (n >= options.instances) break;
      const size_t which = static_cast<size_t>(n) % definitions.size();
      const std::string& applicant = applicants[static_cast<size_t>(n) % applicants.size()];
      v1::StartInstanceRequest request;
      request.set_request_id(absl::StrCat("bulk-load-", load_tag, "-", n));
      request.set_definition_key(definitions[which]->definition().key());
      request.set_definition_version(definitions[which]->version());
      *request.mutable_form() = forms[which].Make(n, applicant);
      absl::StatusOr<v1::InstanceResponse> reply =
          app.instances().StartInstance(Caller{applicant}, request);
      if (!reply.ok()) {
        std::lock_guard<std::mutex> lock(mutex);
        if (first_failure.ok()) {
          first_failure = absl::Status(
              reply.status().code(),
              absl::StrCat("instance ", n, " of ", request.definition_key(), ", applicant ",
                           applicant, ": ", reply.status().message()));
          reply.status().ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
            first_failure.SetPayload(url, payload);
          });
        }
        failed = true;
        break;
      }
      ++started;
    }
    std::lock_guard<std::mutex> lock(mutex);
    --running;
    finished.notify_all();
  };

  std::vector<std::thread> threads;
  for (int i = 0; i < options.threads; ++i) threads.emplace_back(start_some);
  {
    std::unique_lock<std::mutex> lock(mutex);
    const auto interval =
        absl::ToChronoMilliseconds(std::max(options.progress_interval, absl::Milliseconds(10)));
    while (!finished.wait_for(lock, interval, [&] { return running == 0; })) {
      if (!options.on_progress) continue;
      lock.unlock();
      options.on_progress({started.load(), options.instances, absl::Now() - began});
      lock.lock();
    }
  }
  for (auto& thread : threads) thread.join();
  if (!first_failure.ok()) return first_failure;
  return BulkLoadResult{started.load(), absl::Now() - began};
}

}  // namespace signoff::app
