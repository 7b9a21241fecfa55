/**
 * The web chat's upload: one `multipart/form-data` body with the message's fields and its files, read up
 * to a bound (every file at its limit, plus the text) and parsed by Node's own fetch implementation.
 * Everything wrong is an HttpError that says what: too many files, one too large, a name refused.
 */
import type { IncomingMessage } from 'node:http';
import { HttpError } from '../http/json.ts';
import { MAX_FILE_BYTES, MAX_FILES_PER_MESSAGE, megabytes } from './limits.ts';
import { fileNameProblem } from './names.ts';

/** Room for the text fields and the multipart framing around the files. */
const FIELDS_BYTES = 256 * 1024;
export const MAX_UPLOAD_BYTES = MAX_FILES_PER_MESSAGE * MAX_FILE_BYTES + FIELDS_BYTES;

export interface Upload {
  fields: Record<string, string>;
  files: Array<{ name: string; bytes: Buffer }>;
}

export function isMultipart(request: IncomingMessage): boolean {
  return (request.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/form-data');
}

export async function readUpload(request: IncomingMessage): Promise<Upload> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > MAX_UPLOAD_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_UPLOAD_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  let form: FormData;
  try {
    form = await new Response(Buffer.concat(chunks), {
      headers: { 'content-type': request.headers['content-type'] ?? '' },
    }).formData();
  } catch (error) {
    throw new HttpError(400, `body: not valid multipart/form-data (${(error as Error).message})`);
  }
  const upload: Upload = { fields: {}, files: [] };
  for (const [key, value] of form) {
    if (typeof value === 'string') {
      upload.fields[key] = value;
      continue;
    }
    const problem = fileNameProblem(value.name);
    if (problem !== undefined) throw new HttpError(400, `file "${value.name}": the name ${problem}`);
    if (value.size > MAX_FILE_BYTES)
      throw new HttpError(
        413,
        `file "${value.name}": ${value.size} bytes, more than the ${megabytes(MAX_FILE_BYTES)} a file may have`,
      );
    upload.files.push({ name: value.name.trim(), bytes: Buffer.from(await value.arrayBuffer()) });
  }
  if (upload.files.length > MAX_FILES_PER_MESSAGE)
    throw new HttpError(
      413,
      `${upload.files.length} files: a message may carry at most ${MAX_FILES_PER_MESSAGE}`,
    );
  return upload;
}

function tooLarge(): HttpError {
  return new HttpError(
    413,
    `body: larger than ${MAX_UPLOAD_BYTES} bytes; a message carries at most ${MAX_FILES_PER_MESSAGE} files of ${megabytes(MAX_FILE_BYTES)} each`,
  );
}
