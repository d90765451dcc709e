#include "workflow/yaml_mapping.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/json_util.h"
#include "workflow/errors.h"
#include "workflow/problems.h"
#include "yaml-cpp/yaml.h"

namespace signoff::workflow {

namespace v1 = ::signoff::v1;
using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

namespace {

std::string JsonQuote(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += absl::StrCat("\\u00", c < 0x10 ? "0" : "", absl::Hex(c));
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

bool IsPlain(const YAML::Node& node) { return node.Tag() == "?"; }

// Protobuf's JSON parser takes no deeper nesting, so none is mapped; and
// the walk must stop somewhere, since an alias inside its own anchor
// (`&a [*a]`) nests without end.
constexpr int kMaxNesting = 100;

// Aliases let a short document name one node many times, and the nodes it
// names may hold aliases in turn ("billion laughs"). A document without
// them costs the walk about its own size; past this many times that, the
// aliases are taken to expand without bound.
constexpr size_t kMaxExpansion = 16;
constexpr size_t kMinBudget = 4096;

// Converts YAML to JSON text guided by a descriptor, collecting problems.
class YamlToJson {
 public:
  explicit YamlToJson(size_t text_size) : budget_(kMaxExpansion * text_size + kMinBudget) {}

  std::string Message(const YAML::Node& node, const Descriptor* type,
                      const std::string& path) {
    if (type->full_name() == "google.protobuf.Value") return AnyValue(node, path);
    if (type->full_name() == "google.protobuf.Struct") {
      if (!node.IsMap()) return Problem(path, "must be a mapping");
      return AnyValue(node, path);
    }
    if (node.IsNull()) return "{}";
    if (!node.IsMap()) return Problem(path, "must be a mapping");
    Nested nested(*this);
    if (!MayEnter(node, path)) return "null";
    std::string out = "{";
    for (const auto& entry : node) {
      if (!MayEnter(entry.first, path)) break;
      const std::string key = entry.first.as<std::string>();
      const std::string field_path = path.empty() ? key : path + "." + key;
      const FieldDescriptor* field = type->FindFieldByName(key);
      for (int i = 0; field == nullptr && i < type->field_count(); ++i) {
        if (type->field(i)->json_name() == key) field = type->field(i);
      }
      if (field == nullptr) {
        Problem(field_path, absl::StrCat("unknown field '", key, "' in ",
                                         type->name()));
        continue;
      }
      if (out.size() > 1) out += ",";
      out += JsonQuote(field->name()) + ":" + Field(entry.second, field, field_path);
    }
    return out + "}";
  }

  std::vector<v1::Problem> problems;

 private:
  // One level deeper for as long as it lives.
  class Nested {
   public:
    explicit Nested(YamlToJson& walk) : walk_(walk) { ++walk_.depth_; }
    ~Nested() { --walk_.depth_; }

   private:
    YamlToJson& walk_;
  };

  // Whether the walk goes into `node`: not past kMaxNesting, and not once
  // the budget is spent. Either is reported once, at the path where it
  // happened; the rest of the document is not looked at.
  bool MayEnter(const YAML::Node& node, const std::string& path) {
    if (stopped_) return false;
    spent_ += 1 + (node.IsScalar() ? node.Scalar().size() : 0);
    if (depth_ > kMaxNesting) {
      Problem(path, absl::StrCat("nests deeper than ", kMaxNesting, " levels"));
      stopped_ = true;
    } else if (spent_ > budget_) {
      Problem(path, absl::StrCat("its aliases expand the document to more than ",
                                 kMaxExpansion, " times its size"));
      stopped_ = true;
    }
    return !stopped_;
  }

  std::string Problem(const std::string& path, const std::string& message) {
    problems.push_back(ProblemAt(path, message));
    return "null";
  }

  const size_t budget_;
  size_t spent_ = 0;
  int depth_ = 0;
  bool stopped_ = false;

  std::string Field(const YAML::Node& node, const FieldDescriptor* field,
                    const std::string& path) {
    if (!field->is_repeated()) return Single(node, field, path);
    if (node.IsNull()) return "[]";
    if (!node.IsSequence()) return Problem(path, "must be a list");
    Nested nested(*this);
    if (!MayEnter(node, path)) return "null";
    std::string out = "[";
    for (size_t i = 0; i < node.size(); ++i) {
      if (i > 0) out += ",";
      out += Single(node[i], field, absl::StrCat(path, "[", i, "]"));
    }
    return out + "]";
  }

  std::string Single(const YAML::Node& node, const FieldDescriptor* field,
                     const std::string& path) {
    if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
      return Message(node, field->message_type(), path);
    }
    if (!node.IsScalar()) return Problem(path, "must be a single value");
    if (!MayEnter(node, path)) return "null";
    const std::string text = node.Scalar();
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        return JsonQuote(text);
      case FieldDescriptor::CPPTYPE_BOOL:
        if (text == "true" || text == "false") return text;
        return Problem(path, "must be true or false");
      case FieldDescriptor::CPPTYPE_ENUM:
        if (field->enum_type()->FindValueByName(text) == nullptr) {
          return Problem(path, absl::StrCat("unknown ", field->enum_type()->name(),
                                            " value '", text, "'"));
        }
        return JsonQuote(text);
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT: {
        double number;
        if (absl::SimpleAtod(text, &number) && std::isfinite(number)) return text;
        return Problem(path, "must be a number");
      }
      default: {
        int64_t integer;
        if (!absl::SimpleAtoi(text, &integer)) return Problem(path, "must be a whole number");
        const bool is_unsigned = field->cpp_type() == FieldDescriptor::CPPTYPE_UINT32 ||
                                 field->cpp_type() == FieldDescriptor::CPPTYPE_UINT64;
        if (is_unsigned && integer < 0) return Problem(path, "must not be negative");
        return text;
      }
    }
  }

  // Free-form values (google.protobuf.Value): plain scalars that read as
  // numbers, booleans or null become those; quoted ones stay strings.
  std::string AnyValue(const YAML::Node& node, const std::string& path) {
    if (node.IsNull()) return "null";
    Nested nested(*this);
    if (!MayEnter(node, path)) return "null";
    if (node.IsSequence()) {
      std::string out = "[";
      for (size_t i = 0; i < node.size(); ++i) {
        if (i > 0) out += ",";
        out += AnyValue(node[i], absl::StrCat(path, "[", i, "]"));
      }
      return out + "]";
    }
    if (node.IsMap()) {
      std::string out = "{";
      for (const auto& entry : node) {
        if (!MayEnter(entry.first, path)) break;
        if (out.size() > 1) out += ",";
        const std::string key = entry.first.as<std::string>();
        out += JsonQuote(key) + ":" + AnyValue(entry.second, path + "." + key);
      }
      return out + "}";
    }
    const std::string text = node.Scalar();
    if (IsPlain(node)) {
      if (text == "true" || text == "false") return text;
      if (text == "~" || text == "null") return "null";
      double number;
      if (absl::SimpleAtod(text, &number) && std::isfinite(number) &&
          text.find_first_not_of("0123456789+-.eE") == std::string::npos) {
        // Seventeen significant digits name every double exactly; StrCat's
        // six would turn 1234567.89 into 1234570.
        return absl::StrFormat("%.17g", number);
      }
    }
    return JsonQuote(text);
  }
};

template <typename T>
absl::StatusOr<T> ParseAs(const std::string& yaml, const std::string& what) {
  T message;
  auto problems = ParseYamlInto(yaml, message);
  if (!problems.empty()) return ProblemsToStatus(what, problems);
  return message;
}

}  // namespace

std::vector<v1::Problem> ParseYamlInto(const std::string& yaml,
                                       google::protobuf::Message& message) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return {ProblemAt(absl::StrCat("line ", e.mark.line + 1), e.msg)};
  }
  YamlToJson converter(yaml.size());
  std::string json;
  try {
    json = converter.Message(root, message.GetDescriptor(), "");
  } catch (const YAML::Exception& e) {
    return {ProblemAt(absl::StrCat("line ", e.mark.line + 1), e.msg)};
  }
  if (!converter.problems.empty()) return std::move(converter.problems);
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(json, &message, options);
  if (!status.ok()) return {ProblemAt("", std::string(status.message()))};
  return {};
}

absl::StatusOr<v1::WorkflowDefinition> ParseDefinitionYaml(const std::string& yaml) {
  return ParseAs<v1::WorkflowDefinition>(yaml, "the definition");
}

absl::StatusOr<v1::Organisation> ParseOrganisationYaml(const std::string& yaml) {
  return ParseAs<v1::Organisation>(yaml, "the organisation");
}

absl::StatusOr<v1::Calendar> ParseCalendarYaml(const std::string& yaml) {
  return ParseAs<v1::Calendar>(yaml, "the calendar");
}

absl::StatusOr<google::protobuf::Struct> ParseFormYaml(const std::string& yaml,
                                                       const std::string& what) {
  return ParseAs<google::protobuf::Struct>(yaml, what);
}

}  // namespace signoff::workflow
