// Files of ATTACHMENT form fields: uploaded in chunks through unary calls
// (gRPC-web has no client streams), and read back in ranges.
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { attachments, newRequestId } from "./api";

// The most bytes one read asks for.
const readBytes = 1 << 20;

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Uploads `file` for a form of `definitionKey`; resolves to the value an
// ATTACHMENT field takes.
export async function uploadFile(definitionKey: string, file: File): Promise<JsonObject> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const { upload } = await attachments.createUpload({
    requestId: newRequestId(),
    definitionKey,
    name: file.name,
    mediaType: file.type.toLowerCase(),
    size: BigInt(bytes.length),
  });
  if (!upload) throw new Error("the server answered no upload");
  const chunk = Number(upload.chunkSize);
  for (let offset = 0; offset < bytes.length; offset += chunk) {
    await attachments.uploadChunk({ uploadId: upload.id, offset: BigInt(offset), data: bytes.subarray(offset, offset + chunk) });
  }
  const { attachment } = await attachments.completeUpload({ uploadId: upload.id, sha256: await sha256Hex(bytes) });
  if (!attachment) throw new Error("the server answered no attachment");
  return { sha256: attachment.sha256, name: attachment.name, size: Number(attachment.size), media_type: attachment.mediaType };
}

// The attachment references a form value holds: one, a list, or none.
export function attachmentRefs(value: JsonValue | undefined): JsonObject[] {
  const items = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return items.filter((item): item is JsonObject => typeof item === "object" && item !== null && !Array.isArray(item) && typeof item.sha256 === "string");
}

// Reads a file the instance holds, whole, as a Blob of its media type.
export async function downloadFile(instanceId: string, ref: JsonObject): Promise<Blob> {
  const parts: Uint8Array<ArrayBuffer>[] = [];
  let offset = 0;
  for (;;) {
    const range = await attachments.readAttachment({ sha256: String(ref.sha256), instanceId, offset: BigInt(offset), limit: readBytes });
    parts.push(new Uint8Array(range.data));
    offset += range.data.length;
    if (offset >= Number(range.size) || range.data.length === 0) break;
  }
  return new Blob(parts, { type: String(ref.media_type ?? "application/octet-stream") });
}

export function formatBytes(size: number): string {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KiB`;
  return `${(size / (1024 * 1024)).toFixed(1)} MiB`;
}
