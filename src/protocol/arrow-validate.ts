// Validates an untrusted Arrow IPC stream before apache-arrow loads anything from it (protocol.md §5).
//
// apache-arrow trusts every length it reads: a batch claiming 2^50 rows gets null bitmaps of that size, an
// offset past the data reads garbage, an unknown dictionary id gets an empty dictionary. So this walks the
// stream's messages as apache-arrow's MessageReader frames them, bounds-checks each metadata flatbuffer before
// Message.decode reads it (arrow-metadata.ts), and checks each batch's field nodes and buffers in the order
// apache-arrow's VectorLoader consumes them (arrow-layout.ts), as pyarrow's validate(full=True) checks layout.
// It reads metadata, offsets, view headers, type ids and indices once and allocates nothing in proportion to a
// claimed length. It does not check UTF-8 in strings, that null counts match the bitmaps, or other values.
import type { Schema } from 'apache-arrow';
import { type DictionaryBatch as DictionaryBatchHeader, Message, type RecordBatch as RecordBatchHeader } from 'apache-arrow/ipc/metadata/message';
import { ArrowValidationError, BatchWalker, MAX_ARRAY_LENGTH, checkSchema, typeName } from './arrow-layout.js';
import { checkMessageMetadata } from './arrow-metadata.js';

export { ArrowValidationError, MAX_ARRAY_LENGTH } from './arrow-layout.js';

/** A well-formed stream (so far) with more rows than the caller's `maxRows`. */
export class ArrowRowLimitError extends ArrowValidationError {
  override readonly name = 'ArrowRowLimitError';
}

export interface ValidateOptions {
  /** Most rows accepted, over all of the stream's record batches. */
  readonly maxRows: number;
  /** The schema these exact metadata bytes held when they were validated before: saves decoding it again. */
  readonly knownSchema?: ((metadata: Uint8Array) => Schema | undefined) | undefined;
}

/** A record batch whose nodes and buffers fit its body and its schema. */
export interface CheckedBatch {
  readonly header: RecordBatchHeader;
  readonly body: Uint8Array;
  /** The message's custom metadata. */
  readonly metadata: Map<string, string>;
}

export interface CheckedStream {
  /** undefined for a stream without messages. */
  readonly schema: Schema | undefined;
  /** The schema message's bytes when they were decoded here rather than found by `knownSchema`. */
  readonly newSchemaMetadata: Uint8Array | undefined;
  readonly batches: readonly CheckedBatch[];
  readonly dictionaryBatches: number;
}

/** Throws ArrowValidationError unless `bytes` is an Arrow IPC stream that apache-arrow can load safely. */
export function validateIpcStream(bytes: Uint8Array, options: ValidateOptions): void {
  checkIpcStream(bytes, options);
}

/** Validates as validateIpcStream does and returns the decoded messages, so that a reader need not decode them again. */
export function checkIpcStream(bytes: Uint8Array, options: ValidateOptions): CheckedStream {
  const { maxRows, knownSchema } = options;
  if (!Number.isSafeInteger(maxRows) || maxRows < 0) throw new RangeError(`maxRows must be a non-negative integer, got ${maxRows}`);
  if (isFileFormat(bytes)) throw new ArrowValidationError('this is an Arrow IPC file (it starts with "ARROW1"), not a stream');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let position = 0;
  const int32 = (what: string): number => {
    if (position + 4 > bytes.byteLength) throw new ArrowValidationError(`the stream ends inside ${what}, at byte ${position} of ${bytes.byteLength}`);
    position += 4;
    return view.getInt32(position - 4, true);
  };
  let schema: Schema | undefined;
  let newSchemaMetadata: Uint8Array | undefined;
  const batches: CheckedBatch[] = [];
  const dictionaryLengths = new Map<number, number>();
  let dictionaryBatches = 0;
  let rows = 0;
  // As apache-arrow's MessageReader: a continuation marker (or, before Arrow 0.15, none), the metadata length
  // (0: end of stream), the metadata, the body. The end of the bytes ends the stream too.
  for (let index = 0; position < bytes.byteLength; index++) {
    const where = `message ${index}`;
    let length = int32('a message length');
    if (length === -1) length = int32('a message length');
    if (length === 0) {
      // apache-arrow's reader goes on reading after the marker of a stream without batches: nothing may be there.
      if (position < bytes.byteLength) {
        throw new ArrowValidationError(`${bytes.byteLength - position} bytes follow the end-of-stream marker at byte ${position - 4}`);
      }
      break;
    }
    if (length < 0) throw new ArrowValidationError(`${where}: metadata length ${length} is negative`);
    if (length > bytes.byteLength - position) {
      throw new ArrowValidationError(`${where}: ${length} bytes of metadata run past the end of the ${bytes.byteLength}-byte stream`);
    }
    const metadata = bytes.subarray(position, position += length);
    if (!schema && knownSchema) {
      schema = knownSchema(metadata);
      if (schema) continue;
    }
    const problem = checkMessageMetadata(metadata);
    if (problem !== undefined) throw new ArrowValidationError(`${where}: ${problem}`);
    const message = decodeMessage(metadata, where);
    const bodyLength = message.bodyLength;
    if (bodyLength < 0) throw new ArrowValidationError(`${where}: body length ${bodyLength} is negative`);
    // apache-arrow's stream reader never skips a schema's body: one there would be read as the next message.
    if (message.isSchema() && bodyLength !== 0) throw new ArrowValidationError(`${where}: a schema message has no body, this one claims ${bodyLength} bytes`);
    if (bodyLength > bytes.byteLength - position) {
      throw new ArrowValidationError(`${where}: a body of ${bodyLength} bytes runs past the end of the ${bytes.byteLength}-byte stream`);
    }
    const body = bytes.subarray(position, position += bodyLength);
    if (message.isSchema()) {
      if (schema) throw new ArrowValidationError(`${where}: a second schema; a stream has one`);
      schema = decodeHeader(() => message.header(), where);
      checkSchema(schema);
      newSchemaMetadata = metadata;
    } else if (!schema) {
      throw new ArrowValidationError(`${where}: the stream must start with a schema`);
    } else if (message.isRecordBatch()) {
      const batch = decodeHeader(() => message.header(), where);
      const name = `record batch ${batches.length}`;
      if (batch.length < 0 || batch.length > MAX_ARRAY_LENGTH) throw new ArrowValidationError(`${name}: claims ${batch.length} rows`);
      if (rows + batch.length > maxRows) {
        throw new ArrowRowLimitError(`${name}: claims ${batch.length} rows${rows ? ` after ${rows}` : ''}; at most ${maxRows} are accepted`);
      }
      checkRecordBatch(batch, body, schema, dictionaryLengths, name);
      rows += batch.length;
      batches.push({ header: batch, body, metadata: message.metadata });
    } else if (message.isDictionaryBatch()) {
      checkDictionaryBatch(decodeHeader(() => message.header(), where), body, schema, dictionaryLengths);
      dictionaryBatches++;
    }
  }
  return { schema, newSchemaMetadata, batches, dictionaryBatches };
}

const MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"

/** apache-arrow reads bytes that start with the file magic as a file, footer first: not what was checked. */
const isFileFormat = (bytes: Uint8Array): boolean => bytes.byteLength >= 6 && MAGIC.every((byte, i) => bytes[i] === byte);

function decodeMessage(metadata: Uint8Array, where: string): Message {
  try {
    return Message.decode(metadata);
  } catch (error) {
    throw new ArrowValidationError(`${where}: apache-arrow cannot decode its metadata: ${describe(error)}`);
  }
}

/** The decoded header; called once, as Message.header() decodes afresh on every call. */
function decodeHeader<T>(decode: () => T, where: string): T {
  try {
    return decode();
  } catch (error) {
    throw new ArrowValidationError(`${where}: apache-arrow cannot decode its header: ${describe(error)}`);
  }
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));

// ── Batches ───────────────────────────────────────────────────────────────────────────────────────────

/** Checks a record batch, whose length is already known to be in range, against the schema. */
function checkRecordBatch(
  batch: RecordBatchHeader, body: Uint8Array, schema: Schema, dictionaries: ReadonlyMap<number, number>, where: string,
): void {
  const length = batch.length;
  const walker = new BatchWalker(batch, body, schema.metadataVersion, dictionaries, where);
  for (const field of schema.fields) {
    const path = `column "${field.name}"`;
    const columnLength = walker.visit(field.type, path);
    // apache-arrow would rebuild a column of another length with a fresh null bitmap of the batch's length.
    if (columnLength !== length) {
      throw new ArrowValidationError(`${where}, ${path} (${typeName(field.type)}): has ${columnLength} values; the batch has ${length} rows`);
    }
  }
  walker.finish();
}

function checkDictionaryBatch(batch: DictionaryBatchHeader, body: Uint8Array, schema: Schema, lengths: Map<number, number>): void {
  const where = `dictionary batch for id ${batch.id}`;
  const type = schema.dictionaries.get(batch.id);
  if (!type) throw new ArrowValidationError(`${where}: no field of the schema has this dictionary id`);
  const walker = new BatchWalker(batch.data, body, schema.metadataVersion, lengths, where);
  const length = walker.visit(type, 'dictionary');
  if (length !== batch.data.length) throw new ArrowValidationError(`${where}: has ${length} values; the batch claims ${batch.data.length}`);
  walker.finish();
  // As apache-arrow's reader: a delta extends the dictionary, anything else replaces it.
  const total = (batch.isDelta ? lengths.get(batch.id) ?? 0 : 0) + length;
  if (total > MAX_ARRAY_LENGTH) throw new ArrowValidationError(`${where}: the dictionary grows to ${total} values`);
  lengths.set(batch.id, total);
}
