// Reading what the command line names (a batch file, a policy file) with a bound on what is held in
// memory, so `/dev/zero` or a runaway pipe ends in a clear error instead of exhausting the process.

import { createReadStream } from 'node:fs';

/** Longest batch line kept (an `ip mptcp` command is far shorter). */
export const MAX_BATCH_LINE = 64 * 1024;
/** Largest policy file read by `auto --config`. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** A file (or stdin) exceeded one of the bounds above; the message names the file and the bound. */
export class InputTooLargeError extends Error {
  override readonly name = 'InputTooLargeError';
}

function open(path: string): NodeJS.ReadableStream {
  return path === '-' ? process.stdin : createReadStream(path);
}

function close(stream: NodeJS.ReadableStream): void {
  if (stream !== process.stdin) (stream as ReturnType<typeof createReadStream>).destroy();
}

/**
 * The whole of `path` (`-` is stdin) as UTF-8 text, read in chunks.
 * @throws InputTooLargeError once more than `max` bytes came; the system error when it cannot be read.
 */
export async function readBounded(path: string, max: number, what: string): Promise<string> {
  const stream = open(path);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      const b = chunk as Buffer;
      size += b.length;
      if (size > max) throw new InputTooLargeError(`${what} ${path} is larger than ${max} bytes, the most read`);
      chunks.push(b);
    }
  } finally {
    close(stream);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The lines of `path` (`-` is stdin) one at a time, without their newline; a last line without a
 * newline counts too. Only one line is held at a time.
 * @throws InputTooLargeError for a line longer than `maxLine` bytes (naming its number).
 */
export async function* readLines(path: string, maxLine: number): AsyncGenerator<string> {
  const stream = open(path);
  let pending: Buffer[] = [];
  let pendingSize = 0;
  let number = 0;
  try {
    for await (const chunk of stream) {
      let b = chunk as Buffer;
      for (let nl = b.indexOf(10); nl >= 0; nl = b.indexOf(10)) {
        if (pendingSize + nl > maxLine) break;
        number++;
        yield Buffer.concat([...pending, b.subarray(0, nl)]).toString('utf8');
        pending = [];
        pendingSize = 0;
        b = b.subarray(nl + 1);
      }
      pendingSize += b.length;
      if (pendingSize > maxLine) {
        throw new InputTooLargeError(`line ${number + 1} of ${path} is longer than ${maxLine} bytes, the longest batch line read`);
      }
      pending.push(b);
    }
    if (pendingSize > 0) yield Buffer.concat(pending).toString('utf8');
  } finally {
    close(stream);
  }
}
