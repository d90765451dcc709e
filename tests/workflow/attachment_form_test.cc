// ATTACHMENT form values: their shape, the files a form holds, media
// types, and the definition's attachment limits.

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "status_matchers.h"
#include "workflow/attachments.h"
#include "workflow/errors.h"
#include "workflow/form.h"
#include "workflow/validation.h"
#include "workflow/yaml_mapping.h"

namespace signoff::workflow {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

const std::string kSha(64, 'c');

constexpr char kDefinition[] = R"(
key: claim
name: Claim
form:
  fields:
    - {name: receipt, type: ATTACHMENT, required: true}
    - {name: photos, type: LIST, item_type: ATTACHMENT, max: 2}
    - {name: title, type: STRING}
attachments: {max_bytes: 1000, media_types: [application/pdf, image/*]}
steps:
  - {id: done, end: {}}
)";

v1::WorkflowDefinition Definition(const std::string& yaml = kDefinition) {
  auto definition = ParseDefinitionYaml(yaml);
  EXPECT_OK(definition);
  return definition.ok() ? *definition : v1::WorkflowDefinition();
}

google::protobuf::Struct Form(const std::string& yaml) {
  auto form = ParseFormYaml(yaml);
  EXPECT_OK(form);
  return form.ok() ? *form : google::protobuf::Struct();
}

std::string File(const std::string& name = "a.pdf", const std::string& size = "12",
                 const std::string& media_type = "application/pdf",
                 const std::string& sha = kSha) {
  return "{sha256: " + sha + ", name: '" + name + "', size: " + size +
         ", media_type: " + media_type + "}";
}

std::vector<std::string> BadFields(const v1::WorkflowDefinition& definition,
                                   const std::string& form_yaml) {
  Directory directory{v1::Organisation()};
  absl::Status status = ValidateForm(definition.form(), Form(form_yaml), directory);
  std::vector<std::string> fields;
  for (const FieldViolation& violation : ViolationsOf(status)) fields.push_back(violation.field);
  return fields;
}

TEST(AttachmentFormTest, AWellFormedFileAndAListOfThemPass) {
  EXPECT_THAT(BadFields(Definition(), "{receipt: " + File() + ", photos: [" + File("b.png", "3",
                                                                                   "image/png") +
                                          "]}"),
              IsEmpty());
  // Zero bytes is a size.
  EXPECT_THAT(BadFields(Definition(), "{receipt: " + File("empty.pdf", "0") + "}"), IsEmpty());
}

TEST(AttachmentFormTest, EachWrongShapeIsAViolationOfItsField) {
  const v1::WorkflowDefinition definition = Definition();
  const std::vector<std::string> bad = {
      "a.pdf",                                              // not an object
      File("a.pdf", "12", "application/pdf", std::string(63, 'c')),   // short digest
      File("a.pdf", "12", "application/pdf", std::string(64, 'C')),   // uppercase digest
      File("a.pdf", "12", "application/pdf", std::string(63, 'c') + "g"),
      File("", "12"),                                       // no name
      File("dir/a.pdf"),                                    // a path
      File(".."),
      File("a.pdf", "-1"),                                  // negative size
      File("a.pdf", "1.5"),                                 // a fraction of a byte
      File("a.pdf", "'12'"),                                // size as a string
      File("a.pdf", "12", "pdf"),                           // not type/subtype
      File("a.pdf", "12", "Application/PDF"),               // not lowercase
      "{sha256: " + kSha + ", name: a.pdf, size: 12}",      // no media type
      "{sha256: " + kSha + ", name: a.pdf, size: 12, media_type: text/plain, url: x}",
  };
  for (const std::string& value : bad) {
    EXPECT_THAT(BadFields(definition, "{receipt: " + value + "}"), ElementsAre("form.receipt"))
        << value;
  }
  EXPECT_THAT(BadFields(definition, "{receipt: " + File() + ", photos: [" + File() + ", x]}"),
              ElementsAre("form.photos"));
  // The list's max bounds its items: 2 pass, 3 do not.
  EXPECT_THAT(BadFields(definition, "{receipt: " + File() + ", photos: [" + File() + ", " +
                                        File() + "]}"),
              IsEmpty());
  EXPECT_THAT(BadFields(definition, "{receipt: " + File() + ", photos: [" + File() + ", " +
                                        File() + ", " + File() + "]}"),
              ElementsAre("form.photos"));
  EXPECT_THAT(BadFields(definition, "{title: x}"), ElementsAre("form.receipt"));
}

TEST(AttachmentFormTest, AttachmentsOfListsEveryFileWithItsField) {
  const std::string other(64, 'd');
  std::vector<v1::AttachedFile> files = AttachmentsOf(
      Definition().form(),
      Form("{title: t, receipt: " + File("r.pdf") + ", photos: [" +
           File("p.png", "3", "image/png", other) + ", broken]}"));
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].field(), "receipt");
  EXPECT_EQ(files[0].name(), "r.pdf");
  EXPECT_EQ(files[0].size(), 12);
  EXPECT_EQ(files[0].sha256(), kSha);
  EXPECT_EQ(files[1].field(), "photos");
  EXPECT_EQ(files[1].sha256(), other);
  EXPECT_EQ(files[1].media_type(), "image/png");
  EXPECT_TRUE(files[1].uploader().empty());
}

TEST(AttachmentFormTest, MediaTypesAreMatchedWholeOrByTheirTopLevel) {
  v1::AttachmentLimits limits = Definition().attachments();
  EXPECT_TRUE(AcceptsMediaType(limits, "application/pdf"));
  EXPECT_TRUE(AcceptsMediaType(limits, "image/png"));
  EXPECT_FALSE(AcceptsMediaType(limits, "application/pdfx"));
  EXPECT_FALSE(AcceptsMediaType(limits, "imagex/png"));
  EXPECT_FALSE(AcceptsMediaType(limits, "text/plain"));
  EXPECT_TRUE(AcceptsMediaType(v1::AttachmentLimits(), "text/plain"));
}

TEST(AttachmentFormTest, BadLimitsAndAnAttachmentSubjectAreDefinitionProblems) {
  v1::WorkflowDefinition definition = Definition();
  EXPECT_THAT(ValidateDefinition(definition), IsEmpty());
  definition.mutable_attachments()->set_max_bytes(-1);
  definition.mutable_attachments()->add_media_types("PDF");
  definition.mutable_attachments()->add_media_types("video/*");
  definition.mutable_subject()->set_field("receipt");
  std::vector<std::string> paths;
  for (const v1::Problem& problem : ValidateDefinition(definition)) paths.push_back(problem.path());
  EXPECT_THAT(paths, UnorderedElementsAre("attachments.max_bytes", "attachments.media_types[2]",
                                 "subject.field"));
}

}  // namespace
}  // namespace signoff::workflow
