#pragma once

// Bounds on what a caller may send, so that no request can make signoff
// keep or echo unbounded data, and no enum number it does not know reaches
// the engine. Checked once per request, before any work.

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace signoff::workflow {

// ids, request_ids and keys.
inline constexpr size_t kMaxIdBytes = 128;
// Names, codes, roles and other short strings.
inline constexpr size_t kMaxShortTextBytes = 256;
// Comments, reasons and descriptions.
inline constexpr size_t kMaxTextBytes = 4096;
// Users named in one decision (a CC list), items of most lists.
inline constexpr int kMaxListItems = 100;
// Users or departments in one directory change.
inline constexpr int kMaxDirectoryItems = 1000;
// A form, a signal payload or a task result, serialized.
inline constexpr size_t kMaxStructBytes = 64 * 1024;
// A definition, serialized or as YAML.
inline constexpr size_t kMaxDefinitionBytes = 1024 * 1024;
// Steps in one definition.
inline constexpr int kMaxSteps = 500;
// Levels of managers above an applicant a definition may let read its
// instances.
inline constexpr uint32_t kMaxManagersAbove = 10;
// A webhook's URL.
inline constexpr size_t kMaxUrlBytes = 2000;
// A calendar, serialized or as YAML.
inline constexpr size_t kMaxCalendarBytes = 256 * 1024;
// One chunk of an attachment upload, or of a read.
inline constexpr size_t kMaxChunkBytes = 1024 * 1024;

// INVALID_ARGUMENT with one violation per string or list over its bound
// and per enum number signoff does not know; RESOURCE_EXHAUSTED when a
// definition or calendar is over its size. Definitions, calendars and
// forms are bounded whole; their own validation checks their parts.
absl::Status CheckRequestInput(const google::protobuf::Message& request);

}  // namespace signoff::workflow
