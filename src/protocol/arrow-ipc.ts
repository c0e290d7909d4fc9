// Arrow IPC streams for CALL and RESULT bodies (protocol.md §3.4, §7), written and read with
// apache-arrow's own message encoder, assembler and loader, but without its general-purpose stream
// writer and reader: those cost 30-40 µs a batch, which is most of a one-row call. Streams with
// dictionaries go through apache-arrow's writer and reader unchanged. Every stream read is validated first.
import {
  type Data, DataType, type Field, makeData, type Null, RecordBatch, RecordBatchStreamWriter, type Schema, Struct, Table,
  tableFromIPC,
} from 'apache-arrow';
import { AsyncByteQueue } from 'apache-arrow/io/stream';
import { FieldNode, Message, RecordBatch as RecordBatchHeader } from 'apache-arrow/ipc/metadata/message';
import { _InternalEmptyPlaceholderRecordBatch as EmptyPlaceholder } from 'apache-arrow/recordbatch';
import { VectorAssembler } from 'apache-arrow/visitor/vectorassembler';
import { VectorLoader } from 'apache-arrow/visitor/vectorloader';
import { type CheckedStream, checkIpcStream, MAX_ARRAY_LENGTH } from './arrow-validate.js';

// The format says a Null column's null count is its length, and pyarrow's full validation (which every
// worker runs on what it receives) checks it; apache-arrow's assembler writes 0. Its assembler pushes a
// column's node just before it visits the column, so the Null visit corrects that last node. This serves
// both our own stream layout and apache-arrow's writer, which we use for schemas with dictionaries.
const assembleNull = VectorAssembler.prototype.visitNull;
VectorAssembler.prototype.visitNull = function visitNull(this: VectorAssembler, data: Data<Null>) {
  const nodes = this.nodes;
  const last = nodes[nodes.length - 1];
  if (last) nodes[nodes.length - 1] = new FieldNode(last.length, last.length);
  return assembleNull.call(this, data);
};

/**
 * Chunks at least this large (column buffers) become frames of their own, handed to libzmq without
 * a copy; runs of smaller chunks (message headers, padding, small columns) are joined into one frame,
 * because a frame costs more than copying a few kilobytes.
 */
export const OWN_FRAME_BYTES = 64 * 1024;

const CONTINUATION = -1;
const END_OF_STREAM = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
const PADDING = new Uint8Array(8);

/**
 * Encoded schema messages by schema object (null: the schema needs apache-arrow's writer). Schemas are
 * treated as immutable, as apache-arrow treats them: a change to a schema's metadata Map after its
 * first call is not sent.
 */
const encodedSchemas = new WeakMap<Schema, Uint8Array | null>();

/**
 * Serialises a table as one Arrow IPC stream split over frames whose concatenation is the stream.
 * Large frames are views of the table's buffers: they must not change until the call is answered.
 */
export function ipcStreamFrames(table: Table): Uint8Array[] {
  return groupChunks(streamChunks(table), OWN_FRAME_BYTES);
}

/** The stream's chunks in order: schema message, then per batch its message and body buffers, then end of stream. */
function streamChunks(table: Table): Uint8Array[] {
  let schemaMessage = encodedSchemas.get(table.schema);
  if (schemaMessage === undefined) {
    schemaMessage = hasDictionaries(table.schema.fields) ? null : encapsulate(Message.encode(Message.from(table.schema)));
    encodedSchemas.set(table.schema, schemaMessage);
  }
  if (schemaMessage === null) return writerChunks(table);
  const chunks = [schemaMessage];
  for (const batch of table.batches) {
    if (batch instanceof EmptyPlaceholder) continue; // a table read from a stream without batches holds one
    const { byteLength, nodes, bufferRegions, buffers, variadicBufferCounts } = VectorAssembler.assemble(batch);
    const header = new RecordBatchHeader(batch.numRows, nodes, bufferRegions, null, variadicBufferCounts, batch.metadata);
    chunks.push(encapsulate(Message.encode(Message.from(header, byteLength))));
    // As apache-arrow's writer lays out a body: each buffer padded to 8 bytes.
    for (const buffer of buffers) {
      if (buffer.byteLength === 0) continue;
      chunks.push(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength));
      const padding = ((buffer.byteLength + 7) & ~7) - buffer.byteLength;
      if (padding > 0) chunks.push(PADDING.subarray(0, padding));
    }
  }
  chunks.push(END_OF_STREAM);
  return chunks;
}

/** Continuation marker, metadata length, flatbuffer, padding to 8 bytes (the encapsulated message format). */
function encapsulate(flatbuffer: Uint8Array): Uint8Array {
  const size = (flatbuffer.byteLength + 8 + 7) & ~7;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setInt32(0, CONTINUATION, true);
  view.setInt32(4, size - 8, true);
  out.set(flatbuffer, 8);
  return out;
}

const hasDictionaries = (fields: readonly Field[]): boolean =>
  fields.some((field) => DataType.isDictionary(field.type) || hasDictionaries(field.type.children ?? []));

/** Collects apache-arrow's writer output chunks instead of queueing them for a reader. */
class ChunkSink extends AsyncByteQueue {
  readonly chunks: Uint8Array[] = [];

  override write(chunk: Uint8Array): void {
    if (chunk.byteLength > 0) this.chunks.push(chunk);
  }
}

function writerChunks(table: Table): Uint8Array[] {
  const sink = new ChunkSink();
  const writer = new RecordBatchStreamWriter();
  writer.reset(sink);
  writer.writeAll(table);
  return sink.chunks;
}

/** Keeps chunks of `ownFrameBytes` or more as they are and joins each run of smaller ones into one. */
export function groupChunks(chunks: readonly Uint8Array[], ownFrameBytes: number): Uint8Array[] {
  const frames: Uint8Array[] = [];
  let run: Uint8Array[] = [];
  let runBytes = 0;
  const flush = (): void => {
    if (run.length === 1) frames.push(run[0]!);
    else if (run.length > 1) frames.push(Buffer.concat(run, runBytes));
    run = [];
    runBytes = 0;
  };
  for (const chunk of chunks) {
    if (chunk.byteLength >= ownFrameBytes) {
      flush();
      frames.push(chunk);
    } else {
      run.push(chunk);
      runBytes += chunk.byteLength;
    }
  }
  flush();
  return frames;
}

/** What StreamDecoder.decode accepts. */
export interface DecodeOptions {
  /** Most rows the stream may hold; more is an ArrowValidationError. Default MAX_ARRAY_LENGTH (2^31 - 1). */
  readonly maxRows?: number;
}

/**
 * Reads RESULT streams without copying: the columns view the received frame. Every stream is validated
 * first (arrow-validate.ts): a worker's bytes are untrusted. A worker answers with the same schema call
 * after call, so the last few validated schemas are kept by their message bytes.
 */
export class StreamDecoder {
  private readonly schemas: { bytes: Buffer; schema: Schema }[] = [];

  constructor(private readonly cachedSchemas = 8) {}

  /** The stream's table; throws ArrowValidationError for a stream that is malformed or too long. */
  decode(bytes: Uint8Array, options: DecodeOptions = {}): Table {
    const stream = checkIpcStream(bytes, {
      maxRows: options.maxRows ?? MAX_ARRAY_LENGTH,
      knownSchema: (metadata) => this.cachedSchema(metadata),
    });
    try {
      return this.load(stream) ?? tableFromIPC(bytes);
    } catch {
      // A stream this reader gets wrong is read again by apache-arrow's, whose error is the one to report.
      return tableFromIPC(bytes);
    }
  }

  /** The table, or undefined for a stream with dictionaries or a misaligned body, left to apache-arrow's reader. */
  private load({ schema, newSchemaMetadata, batches, dictionaryBatches }: CheckedStream): Table | undefined {
    if (!schema || dictionaryBatches > 0 || hasDictionaries(schema.fields)) return undefined;
    if (newSchemaMetadata) this.remember(newSchemaMetadata, schema);
    const loaded: RecordBatch[] = [];
    for (const { header, body, metadata } of batches) {
      if (body.byteOffset % 8 !== 0) return undefined;
      const children = new VectorLoader(
        body, header.nodes, header.buffers, new Map(), schema.metadataVersion, header.variadicBufferCounts,
      ).visitMany(schema.fields);
      const data = makeData({ type: new Struct(schema.fields), length: header.length, children });
      loaded.push(new RecordBatch(schema, data, metadata));
    }
    // As apache-arrow's reader does: a stream without batches still yields the schema's table.
    return new Table(loaded.length ? loaded : [new EmptyPlaceholder(schema)]);
  }

  private cachedSchema(metadata: Uint8Array): Schema | undefined {
    const bytes = Buffer.from(metadata.buffer, metadata.byteOffset, metadata.byteLength);
    return this.schemas.find((entry) => entry.bytes.equals(bytes))?.schema;
  }

  private remember(metadata: Uint8Array, schema: Schema): void {
    this.schemas.unshift({ bytes: Buffer.from(metadata), schema });
    this.schemas.length = Math.min(this.schemas.length, this.cachedSchemas);
  }
}
