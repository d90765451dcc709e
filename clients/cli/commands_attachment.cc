// `attachment upload|get|download`: files for ATTACHMENT form fields.
#include <openssl/evp.h>

#include <fstream>
#include <iostream>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "commands.h"
#include "form_input.h"
#include "output.h"

namespace signoff::cli {

namespace {

using Stub = v1::AttachmentService::Stub;

struct UploadArgs {
  std::string file;
  std::string definition;
  std::string media_type;
  std::string request_id;
};

struct ReadArgs {
  std::string sha256;
  std::string instance;
  std::string output;
};

std::string Sha256Hex(const std::string& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), length));
}

// The media type a file's extension usually means.
std::string GuessMediaType(const std::string& path) {
  static const std::map<std::string, std::string> kByExtension = {
      {"pdf", "application/pdf"},   {"png", "image/png"},       {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},       {"gif", "image/gif"},       {"txt", "text/plain"},
      {"csv", "text/csv"},          {"json", "application/json"},
      {"zip", "application/zip"},
      {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
      {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}};
  const size_t dot = path.find_last_of('.');
  const size_t slash = path.find_last_of('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) {
    return "application/octet-stream";
  }
  auto it = kByExtension.find(absl::AsciiStrToLower(path.substr(dot + 1)));
  return it == kByExtension.end() ? "application/octet-stream" : it->second;
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

void PrintAttachment(const v1::AttachmentResponse& response) {
  const v1::Attachment& attachment = response.attachment();
  Table table({"SHA256", "NAME", "SIZE", "MEDIA TYPE", "UPLOADER"});
  table.Add({attachment.sha256(), attachment.name(), absl::StrCat(attachment.size()),
             attachment.media_type(), response.uploader()});
  table.Print();
}

absl::Status Upload(Cli& cli, const UploadArgs& args) {
  return Show(cli, UploadFile(cli, args.file, args.definition, args.media_type, args.request_id),
              PrintAttachment);
}

absl::Status Get(Cli& cli, const ReadArgs& args) {
  v1::GetAttachmentRequest request;
  request.set_sha256(args.sha256);
  request.set_instance_id(args.instance);
  return Show(cli, cli.Connect().Call(cli.Connect().attachments(), &Stub::GetAttachment, request),
              PrintAttachment);
}

absl::Status Download(Cli& cli, const ReadArgs& args) {
  std::ofstream out(args.output, std::ios::binary | std::ios::trunc);
  if (!out) return UsageError(absl::StrCat("-o: cannot write ", args.output));
  v1::ReadAttachmentRequest request;
  request.set_sha256(args.sha256);
  request.set_instance_id(args.instance);
  request.set_limit(1 << 20);
  int64_t written = 0;
  for (;;) {
    request.set_offset(written);
    auto range = cli.Connect().Call(cli.Connect().attachments(), &Stub::ReadAttachment, request);
    if (!range.ok()) return range.status();
    out.write(range->data().data(), static_cast<std::streamsize>(range->data().size()));
    written += static_cast<int64_t>(range->data().size());
    if (written >= range->size() || range->data().empty()) break;
  }
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("writing ", args.output, " failed"));
  if (!cli.json()) std::cerr << "wrote " << written << " bytes to " << args.output << "\n";
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::AttachmentResponse> UploadFile(Cli& cli, const std::string& path,
                                                  const std::string& definition_key,
                                                  const std::string& media_type,
                                                  const std::string& request_id) {
  auto bytes = ReadFile(path);
  if (!bytes.ok()) return UsageError(absl::StrCat(path, ": ", bytes.status().message()));
  v1::CreateUploadRequest create;
  create.set_request_id(request_id.empty() ? NewRequestId() : request_id);
  create.set_definition_key(definition_key);
  create.set_name(BaseName(path));
  create.set_media_type(media_type.empty() ? GuessMediaType(path) : media_type);
  create.set_size(static_cast<int64_t>(bytes->size()));
  auto created = cli.Connect().Call(cli.Connect().attachments(), &Stub::CreateUpload, create);
  if (!created.ok()) return created.status();
  const v1::Upload& upload = created->upload();
  for (int64_t offset = 0; offset < upload.size(); offset += upload.chunk_size()) {
    v1::UploadChunkRequest chunk;
    chunk.set_upload_id(upload.id());
    chunk.set_offset(offset);
    chunk.set_data(bytes->substr(offset, upload.chunk_size()));
    auto sent = cli.Connect().Call(cli.Connect().attachments(), &Stub::UploadChunk, chunk);
    if (!sent.ok()) return sent.status();
  }
  v1::CompleteUploadRequest complete;
  complete.set_upload_id(upload.id());
  complete.set_sha256(Sha256Hex(*bytes));
  return cli.Connect().Call(cli.Connect().attachments(), &Stub::CompleteUpload, complete);
}

void AddAttachmentCommands(CLI::App& app, Cli& cli) {
  auto* noun = Group(app, "attachment", "upload and read files of ATTACHMENT form fields",
                     {"signoffctl --as bob.zhang attachment upload invoice.pdf "
                      "--definition dealer-claim",
                      "signoffctl --as carol.wu attachment download 9f86d0... --instance "
                      "in0123 -o invoice.pdf"});

  auto upload_args = std::make_shared<UploadArgs>();
  auto* upload = Command(*noun, "upload",
                         "upload a file in chunks and print its reference, the value an "
                         "ATTACHMENT field takes",
                         "signoffctl --as bob.zhang attachment upload invoice.pdf "
                         "--definition dealer-claim");
  upload->add_option("file", upload_args->file, "the file")->required()->check(CLI::ExistingFile);
  upload->add_option("--definition", upload_args->definition,
                     "the definition whose form the file is for")
      ->required();
  upload->add_option("--media-type", upload_args->media_type,
                     "such as application/pdf (default: guessed from the extension)");
  upload->add_option("--request-id", upload_args->request_id,
                     "idempotency key; repeating it is safe");
  upload->callback([&cli, upload_args] {
    cli.run = [&cli, upload_args] { return Upload(cli, *upload_args); };
  });

  auto get_args = std::make_shared<ReadArgs>();
  auto* get = Command(*noun, "get", "show a file's name, size, media type and uploader",
                      "signoffctl --as carol.wu attachment get 9f86d0... --instance in0123");
  get->add_option("sha256", get_args->sha256, "the file's SHA-256")->required();
  get->add_option("--instance", get_args->instance,
                  "the instance holding it (none: your own upload)");
  get->callback([&cli, get_args] { cli.run = [&cli, get_args] { return Get(cli, *get_args); }; });

  auto download_args = std::make_shared<ReadArgs>();
  auto* download = Command(*noun, "download", "write a file's content to a local file",
                           "signoffctl --as carol.wu attachment download 9f86d0... --instance "
                           "in0123 -o invoice.pdf");
  download->add_option("sha256", download_args->sha256, "the file's SHA-256")->required();
  download->add_option("--instance", download_args->instance,
                       "the instance holding it (none: your own upload)");
  download->add_option("-o,--output", download_args->output, "where to write it")->required();
  download->callback([&cli, download_args] {
    cli.run = [&cli, download_args] { return Download(cli, *download_args); };
  });
}

}  // namespace signoff::cli
