// Bounds-checks an Arrow IPC message's flatbuffer before apache-arrow's Message.decode reads it (protocol.md §5).
//
// apache-arrow's generated flatbuffer readers trust the buffer: a read past its end yields zero, and every vector
// length is believed, so a few bytes claiming 2^31 field nodes make 2^31 objects. This walks the parts of the message
// that Message.decode (and Message.header()) read, in the same signed arithmetic, and rejects any read outside
// the buffer, any vector that does not fit, nesting deeper than MAX_DEPTH, and more reading in all than the
// buffer's size justifies (tables shared between several parents would otherwise multiply the work).

/** Deepest nesting of fields accepted: far more than any real schema, few enough for recursion. */
const MAX_DEPTH = 64;

// Enum values of Arrow's Schema.fbs and Message.fbs.
const MESSAGE_SCHEMA = 1;
const MESSAGE_DICTIONARY_BATCH = 2;
const MESSAGE_RECORD_BATCH = 3;
const METADATA_V4 = 3;
const METADATA_V5 = 4;
const ENDIANNESS_BIG = 1;
const TYPE_TIMESTAMP = 10;
const TYPE_UNION = 14;
const TYPE_LARGEST = 26;
/** Types of Schema.fbs that apache-arrow's decoder does not know. */
const UNREADABLE_TYPES: Readonly<Record<number, string>> = { 22: 'RunEndEncoded', 25: 'ListView', 26: 'LargeListView' };
const MESSAGE_NAMES: Readonly<Record<number, string>> = { 0: 'NONE', 4: 'Tensor', 5: 'SparseTensor' };

class Malformed extends Error {}

const NONE = { start: 0, length: 0 };

/** Checks one message flatbuffer; returns undefined, or a sentence saying what is wrong with it. */
export function checkMessageMetadata(bytes: Uint8Array): string | undefined {
  try {
    new Walker(bytes).message();
    return undefined;
  } catch (error) {
    if (error instanceof Malformed) return error.message;
    throw error;
  }
}

class Walker {
  private readonly view: DataView;
  /** Bytes of tables, vectors and strings still allowed to be read: a well-formed buffer reads each of its bytes about once. */
  private budget: number;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.budget = 4 * bytes.byteLength + 256;
  }

  message(): void {
    const root = this.int32(0, 'the root offset');
    const version = this.scalar16(root, 4, 0);
    if (version < METADATA_V4 || version > METADATA_V5) {
      throw new Malformed(`metadata version ${version + 1} is not supported (V4 and V5 are)`);
    }
    const headerType = this.uint8At(root, 6);
    this.int64At(root, 10, 'the body length');
    this.keyValues(root, 12);
    const header = this.table(root, 8, 'the message header');
    switch (headerType) {
      case MESSAGE_SCHEMA:
        if (header === undefined) throw new Malformed('the schema message has no schema');
        this.schema(header);
        break;
      case MESSAGE_RECORD_BATCH:
        if (header === undefined) throw new Malformed('the record batch message has no header');
        this.recordBatch(header);
        break;
      case MESSAGE_DICTIONARY_BATCH: {
        if (header === undefined) throw new Malformed('the dictionary batch message has no header');
        this.int64At(header, 4, 'the dictionary id');
        const data = this.table(header, 6, 'the dictionary batch data');
        if (data === undefined) throw new Malformed('the dictionary batch has no record batch');
        this.recordBatch(data);
        break;
      }
      default:
        throw new Malformed(`message type ${MESSAGE_NAMES[headerType] ?? headerType} is not supported in a stream (Schema, DictionaryBatch and RecordBatch are)`);
    }
  }

  private schema(schema: number): void {
    if (this.scalar16(schema, 4, 0) === ENDIANNESS_BIG) throw new Malformed('the stream is big-endian; only little-endian streams are read');
    const fields = this.vector(schema, 6, 4, 'the schema\'s fields') ?? NONE;
    for (let i = 0; i < fields.length; i++) this.field(this.tableAt(fields.start, i, 'a field'), 1);
    this.keyValues(schema, 8);
  }

  private field(field: number, depth: number): void {
    if (depth > MAX_DEPTH) throw new Malformed(`fields are nested more than ${MAX_DEPTH} deep`);
    const name = this.string(field, 4, 'a field name');
    const typeType = this.uint8At(field, 8);
    const described = name === undefined ? 'a field' : `field "${name}"`;
    if (typeType > TYPE_LARGEST || UNREADABLE_TYPES[typeType]) {
      throw new Malformed(`${described} has type ${UNREADABLE_TYPES[typeType] ?? `id ${typeType}`}, which apache-arrow cannot read`);
    }
    const type = this.table(field, 10, 'a field type');
    if (type !== undefined && typeType === TYPE_UNION) this.vector(type, 6, 4, 'union type ids');
    if (type !== undefined && typeType === TYPE_TIMESTAMP) this.string(type, 6, 'a timezone');
    const dictionary = this.table(field, 12, 'a dictionary encoding');
    if (dictionary !== undefined) {
      this.int64At(dictionary, 4, 'a dictionary id');
      this.table(dictionary, 6, 'a dictionary index type');
    }
    const children = this.vector(field, 14, 4, 'a field\'s children') ?? NONE;
    for (let i = 0; i < children.length; i++) this.field(this.tableAt(children.start, i, 'a child field'), depth + 1);
    this.keyValues(field, 16);
  }

  private recordBatch(batch: number): void {
    this.int64At(batch, 4, 'the batch length');
    this.vector(batch, 6, 16, 'the field nodes');
    this.vector(batch, 8, 16, 'the buffers');
    this.table(batch, 10, 'the body compression');
    this.vector(batch, 12, 8, 'the variadic buffer counts');
  }

  /** A custom_metadata vector of KeyValue tables. */
  private keyValues(table: number, slot: number): void {
    const entries = this.vector(table, slot, 4, 'custom metadata') ?? NONE;
    for (let i = 0; i < entries.length; i++) {
      const entry = this.tableAt(entries.start, i, 'a metadata entry');
      this.string(entry, 4, 'a metadata key');
      this.string(entry, 6, 'a metadata value');
    }
  }

  // Flatbuffer primitives, as flatbuffers' ByteBuffer computes them (signed offsets), but bounds-checked.

  /** The offset of field `slot` in `table`'s vtable, 0 when absent. */
  private slot(table: number, slot: number): number {
    const vtable = table - this.int32(table, 'a table');
    return slot < this.int16(vtable, 'a vtable') ? this.int16(vtable + slot, 'a vtable') : 0;
  }

  private table(table: number, slot: number, what: string): number | undefined {
    const offset = this.slot(table, slot);
    if (offset === 0) return undefined;
    return this.indirect(table + offset, what);
  }

  private tableAt(vectorStart: number, index: number, what: string): number {
    return this.indirect(vectorStart + 4 * index, what);
  }

  private indirect(at: number, what: string): number {
    const target = at + this.int32(at, what);
    this.int32(target, what); // its vtable offset: the first thing any accessor reads
    this.spend(4);
    return target;
  }

  private vector(table: number, slot: number, elementSize: number, what: string): { start: number; length: number } | undefined {
    const offset = this.slot(table, slot);
    if (offset === 0) return undefined;
    const at = table + offset;
    const vector = at + this.int32(at, what);
    const length = this.int32(vector, what);
    const start = vector + 4;
    if (length < 0 || start + length * elementSize > this.bytes.byteLength) {
      throw new Malformed(`${what} claim ${length} entries, more than the ${this.bytes.byteLength}-byte metadata holds`);
    }
    this.spend(length * elementSize);
    return { start, length };
  }

  /** The string's first bytes (for messages), or undefined when absent. */
  private string(table: number, slot: number, what: string): string | undefined {
    const string = this.vector(table, slot, 1, what);
    if (!string) return undefined;
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + string.start, Math.min(string.length, 64)).toString('utf8');
  }

  private spend(bytes: number): void {
    this.budget -= bytes;
    if (this.budget < 0) throw new Malformed(`the ${this.bytes.byteLength}-byte metadata refers to more data than it holds (shared or looping tables)`);
  }

  private scalar16(table: number, slot: number, otherwise: number): number {
    const offset = this.slot(table, slot);
    return offset === 0 ? otherwise : this.int16(table + offset, 'a field');
  }

  private uint8At(table: number, slot: number): number {
    const offset = this.slot(table, slot);
    return offset === 0 ? 0 : this.byte(table + offset);
  }

  private int64At(table: number, slot: number, what: string): void {
    const offset = this.slot(table, slot);
    if (offset !== 0) this.check(table + offset, 8, what);
  }

  private byte(at: number): number {
    this.check(at, 1, 'a field');
    return this.view.getUint8(at);
  }

  private int16(at: number, what: string): number {
    this.check(at, 2, what);
    return this.view.getInt16(at, true);
  }

  private int32(at: number, what: string): number {
    this.check(at, 4, what);
    return this.view.getInt32(at, true);
  }

  private check(at: number, size: number, what: string): void {
    if (!(at >= 0 && at + size <= this.bytes.byteLength)) {
      throw new Malformed(`${what} at byte ${at} lies outside the ${this.bytes.byteLength}-byte metadata`);
    }
  }
}
