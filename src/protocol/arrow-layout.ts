// The layout rules of Arrow arrays as apache-arrow reads them: which types it takes (checkSchema), and which field
// nodes and buffers each array consumes and what they must hold (BatchWalker). arrow-validate.ts applies them to
// each message of a stream; protocol.md §5 lists the rules.
import {
  type DataType, type Dictionary, type Field, type FixedSizeBinary, type FixedSizeList, type Int, type Interval, type Schema,
  type Union, DateUnit, IntervalUnit, MetadataVersion, Precision, TimeUnit, Type, UnionMode,
} from 'apache-arrow';
import type { BufferRegion, FieldNode, RecordBatch as RecordBatchHeader } from 'apache-arrow/ipc/metadata/message';

/** Longest array apache-arrow can hold: it computes lengths and offsets in 32 bits. */
export const MAX_ARRAY_LENGTH = 2 ** 31 - 1;

/** A stream that breaks the format or apache-arrow's limits; the message says what and where. */
export class ArrowValidationError extends Error {
  override readonly name: string = 'ArrowValidationError';
}

/** apache-arrow's name for a type; its toString() throws for some malformed ones (a List without a child). */
export function typeName(type: DataType): string {
  try {
    return String(type);
  } catch {
    return Type[type.typeId] ?? `type ${type.typeId}`;
  }
}

// ── Schema ────────────────────────────────────────────────────────────────────────────────────────────

/** Rejects types apache-arrow would misread, and type parameters outside the format. */
export function checkSchema(schema: Schema): void {
  if (schema.metadataVersion < MetadataVersion.V4) throw new ArrowValidationError('the schema predates metadata version V4');
  for (const field of schema.fields) checkType(field.type, `column "${field.name}"`);
}

function checkType(type: DataType, path: string): void {
  const bad = (what: string): ArrowValidationError => new ArrowValidationError(`${path} (${typeName(type)}): ${what}`);
  const children = (type.children ?? []) as (Field | undefined)[];
  const needChildren = (count: number): void => {
    if (children.length !== count || children.some((child) => !child)) throw bad(`needs ${count} child field(s), has ${children.length}`);
  };
  switch (type.typeId) {
    case Type.Null: case Type.Bool: case Type.Binary: case Type.Utf8: case Type.LargeBinary: case Type.LargeUtf8:
    case Type.BinaryView: case Type.Utf8View: case Type.Timestamp: case Type.Duration: case Type.Float: case Type.Decimal:
    case Type.Date: case Type.Time: case Type.Interval: case Type.Int: case Type.FixedSizeBinary:
      valueWidth(type, path); // throws for parameters outside the format
      return;
    case Type.Dictionary: {
      const dictionary = type as Dictionary;
      if (!isIndexType(dictionary.indices)) throw bad(`dictionary indices must be 8, 16, 32 or 64-bit integers, not ${typeName(dictionary.indices)}`);
      checkType(dictionary.dictionary, `${path} dictionary`);
      return;
    }
    case Type.List: case Type.LargeList:
      needChildren(1);
      break;
    case Type.FixedSizeList:
      needChildren(1);
      if (!Number.isSafeInteger((type as FixedSizeList).listSize) || (type as FixedSizeList).listSize < 0) throw bad('list size must be a non-negative integer');
      break;
    case Type.Map: {
      needChildren(1);
      const entries = children[0]!.type;
      if (entries.typeId !== Type.Struct || entries.children.length !== 2) throw bad('a map\'s entries must be a struct of key and value');
      break;
    }
    case Type.Struct:
      needChildren(children.length);
      break;
    case Type.Union: {
      const union = type as Union;
      needChildren(children.length);
      if (union.mode !== UnionMode.Sparse && union.mode !== UnionMode.Dense) throw bad(`unknown union mode ${union.mode}`);
      const ids = [...union.typeIds];
      if (ids.length !== children.length) throw bad(`declares ${ids.length} type ids for ${children.length} children`);
      if (ids.some((id, i) => !(id >= 0 && id <= 127) || ids.indexOf(id) !== i)) throw bad(`type ids must be distinct, 0 to 127: [${ids.join(', ')}]`);
      break;
    }
    default:
      throw bad('this type is not supported');
  }
  for (const child of children) checkType(child!.type, `${path}.${child!.name}`);
}

const isIndexType = (type: DataType): type is Int =>
  type.typeId === Type.Int && [8, 16, 32, 64].includes((type as Int).bitWidth);

/** Bytes per value of a fixed-width type (1/8 for Bool), 0 for the others. */
function valueWidth(type: DataType, path: string): number {
  const t = type as DataType & { bitWidth?: number; unit?: number; precision?: number };
  const bad = (): ArrowValidationError => new ArrowValidationError(`${path} (${typeName(type)}): parameters outside the Arrow format`);
  switch (type.typeId) {
    case Type.Bool: return 1 / 8;
    case Type.Int: if (isIndexType(type)) return type.bitWidth / 8; throw bad();
    case Type.Float:
      if (t.precision === Precision.HALF) return 2;
      if (t.precision === Precision.SINGLE) return 4;
      if (t.precision === Precision.DOUBLE) return 8;
      throw bad();
    case Type.Decimal: if ([32, 64, 128, 256].includes(t.bitWidth!)) return t.bitWidth! / 8; throw bad();
    case Type.Date:
      if (t.unit === DateUnit.DAY) return 4;
      if (t.unit === DateUnit.MILLISECOND) return 8;
      throw bad();
    case Type.Time:
      if (t.bitWidth === 32 && (t.unit === TimeUnit.SECOND || t.unit === TimeUnit.MILLISECOND)) return 4;
      if (t.bitWidth === 64 && (t.unit === TimeUnit.MICROSECOND || t.unit === TimeUnit.NANOSECOND)) return 8;
      throw bad();
    case Type.Timestamp: case Type.Duration:
      if (t.unit! >= TimeUnit.SECOND && t.unit! <= TimeUnit.NANOSECOND) return 8;
      throw bad();
    case Type.Interval: {
      const unit = (type as Interval).unit;
      if (unit === IntervalUnit.YEAR_MONTH) return 4;
      if (unit === IntervalUnit.DAY_TIME) return 8;
      if (unit === IntervalUnit.MONTH_DAY_NANO) return 16;
      throw bad();
    }
    case Type.FixedSizeBinary: {
      const width = (type as FixedSizeBinary).byteWidth;
      if (Number.isSafeInteger(width) && width >= 0) return width;
      throw bad();
    }
    default: return 0;
  }
}

// ── Arrays ────────────────────────────────────────────────────────────────────────────────────────────

/** Bytes per element of the typed array apache-arrow views a fixed-width type's data as. */
function elementBytes(type: DataType): number {
  const { ArrayType } = type as DataType & { ArrayType?: { BYTES_PER_ELEMENT: number } };
  return ArrayType?.BYTES_PER_ELEMENT ?? 1;
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
const VIEW_BYTES = 16;
const VIEW_INLINE_BYTES = 12;

/** Visits field nodes and buffers in the order apache-arrow's VectorLoader consumes them, checking each. */
export class BatchWalker {
  private readonly view: DataView;
  private nodeIndex = 0;
  private bufferIndex = 0;
  private variadicIndex = 0;

  constructor(
    private readonly batch: RecordBatchHeader,
    private readonly body: Uint8Array,
    private readonly version: MetadataVersion,
    private readonly dictionaries: ReadonlyMap<number, number>,
    private readonly where: string,
  ) {
    this.view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    if (batch.compression != null) throw new ArrowValidationError(`${where}: compressed bodies are not supported`);
  }

  /** Checks one array (and its children); returns its length. */
  visit(type: DataType, path: string): number {
    const node = this.nextNode(type, path);
    const { length } = node;
    const fail = (what: string): ArrowValidationError => new ArrowValidationError(`${this.where}, ${path} (${typeName(type)}): ${what}`);
    if (type.typeId === Type.Null) return length;
    if (type.typeId === Type.Union) return this.union(type as Union, length, path, fail);
    const validity = this.nextBuffer(fail, 'validity bitmap');
    if (node.nullCount > 0 && validity.length < Math.ceil(length / 8)) {
      throw fail(`${node.nullCount} nulls need a validity bitmap of ${Math.ceil(length / 8)} bytes, it holds ${validity.length}`);
    }
    const isValid = node.nullCount > 0 ? this.bitReader(validity) : undefined;
    switch (type.typeId) {
      case Type.Dictionary:
        this.indices(type as Dictionary, length, isValid, fail);
        return length;
      case Type.Utf8: case Type.Binary: case Type.LargeUtf8: case Type.LargeBinary: {
        const large = type.typeId === Type.LargeUtf8 || type.typeId === Type.LargeBinary;
        const end = this.offsets(large, length, fail);
        const data = this.nextBuffer(fail, 'data');
        if (end > data.length) throw fail(`offsets end at ${end} but the data buffer holds ${data.length} bytes`);
        return length;
      }
      case Type.Utf8View: case Type.BinaryView:
        this.views(length, isValid, fail);
        return length;
      case Type.List: case Type.LargeList: case Type.Map: {
        const end = this.offsets(type.typeId === Type.LargeList, length, fail);
        const child = type.children[0]!;
        const childLength = this.visit(child.type, `${path}.${child.name}`);
        if (end > childLength) throw fail(`offsets end at ${end} but the child holds ${childLength} values`);
        return length;
      }
      case Type.FixedSizeList: {
        const child = type.children[0]!;
        const childLength = this.visit(child.type, `${path}.${child.name}`);
        const needed = length * (type as FixedSizeList).listSize;
        if (childLength < needed) throw fail(`${length} lists of ${(type as FixedSizeList).listSize} need ${needed} child values, the child holds ${childLength}`);
        return length;
      }
      case Type.Struct:
        for (const child of type.children as Field[]) {
          const childLength = this.visit(child.type, `${path}.${child.name}`);
          if (childLength < length) throw fail(`child "${child.name}" holds ${childLength} values, fewer than the struct's ${length}`);
        }
        return length;
      default: {
        const width = valueWidth(type, path);
        const data = this.nextBuffer(fail, 'data', elementBytes(type));
        const needed = Math.ceil(length * width);
        if (data.length < needed) throw fail(`${length} values need a data buffer of ${needed} bytes, it holds ${data.length}`);
        return length;
      }
    }
  }

  /** Every node and buffer (and variadic count) of the message must have been used: a mismatch is a misread. */
  finish(): void {
    const { nodes, buffers, variadicBufferCounts } = this.batch;
    if (this.nodeIndex !== nodes.length) {
      throw new ArrowValidationError(`${this.where}: has ${nodes.length} field nodes; the schema uses ${this.nodeIndex}`);
    }
    if (this.bufferIndex !== buffers.length) {
      throw new ArrowValidationError(`${this.where}: has ${buffers.length} buffers; the schema uses ${this.bufferIndex}`);
    }
    if (this.variadicIndex !== variadicBufferCounts.length) {
      throw new ArrowValidationError(`${this.where}: has ${variadicBufferCounts.length} variadic buffer counts; the schema uses ${this.variadicIndex}`);
    }
  }

  private nextNode(type: DataType, path: string): FieldNode {
    const node = this.batch.nodes[this.nodeIndex++];
    const fail = (what: string): ArrowValidationError => new ArrowValidationError(`${this.where}, ${path} (${typeName(type)}): ${what}`);
    if (!node) throw fail(`the batch has only ${this.batch.nodes.length} field nodes`);
    const { length, nullCount } = node;
    if (length < 0 || length > MAX_ARRAY_LENGTH) throw fail(`claims length ${length}`);
    if (nullCount < 0 || nullCount > length) throw fail(`claims ${nullCount} nulls in ${length} values`);
    return node;
  }

  /** The next buffer, inside the body and aligned for the typed array apache-arrow views it as (`alignment` bytes). */
  private nextBuffer(fail: (what: string) => ArrowValidationError, what: string, alignment = 1): BufferRegion {
    const region = this.batch.buffers[this.bufferIndex++];
    if (!region) throw fail(`the batch has only ${this.batch.buffers.length} buffers (reading the ${what})`);
    const { offset, length } = region;
    if (offset < 0 || length < 0 || offset + length > this.body.byteLength) {
      throw fail(`the ${what} at bytes ${offset}..${offset + length} lies outside the ${this.body.byteLength}-byte body`);
    }
    // Bodies are 8-byte aligned (apache-arrow's reader copies one that is not), so the offset in the body decides.
    if (offset % alignment !== 0) throw fail(`the ${what} at byte ${offset} is not aligned to ${alignment} bytes`);
    return region;
  }

  private bitReader(bitmap: BufferRegion): (index: number) => boolean {
    const { body } = this;
    const start = bitmap.offset;
    return (index) => ((body[start + (index >> 3)]! >> (index & 7)) & 1) === 1;
  }

  /** Reads and checks an offsets buffer: non-decreasing from a non-negative start. Returns the last offset. */
  private offsets(large: boolean, length: number, fail: (what: string) => ArrowValidationError): number {
    const width = large ? 8 : 4;
    const region = this.nextBuffer(fail, 'offsets', width);
    // An empty array may leave its offsets out altogether.
    if (length === 0 && region.length === 0) return 0;
    if (region.length < (length + 1) * width) {
      throw fail(`${length} values need ${length + 1} offsets (${(length + 1) * width} bytes), the offsets buffer holds ${region.length} bytes`);
    }
    const first = large ? this.int64(region.offset, fail) : this.view.getInt32(region.offset, true);
    if (first < 0) throw fail(`the first offset is ${first}`);
    const decreasing = large ? this.firstDecrease64(region.offset, length, fail) : this.firstDecrease32(region.offset, length);
    if (decreasing > 0) {
      const read = (i: number): number => (large ? this.int64(region.offset + 8 * i, fail) : this.view.getInt32(region.offset + 4 * i, true));
      throw fail(`offset ${decreasing} is ${read(decreasing)}, less than offset ${decreasing - 1} (${read(decreasing - 1)})`);
    }
    return large ? this.int64(region.offset + 8 * length, fail) : this.view.getInt32(region.offset + 4 * length, true);
  }

  /** The first i in 1..length whose int32 offset is less than the one before it, or 0. The hot loop of a RESULT with strings. */
  private firstDecrease32(offset: number, length: number): number {
    const values = this.int32View(offset, length + 1);
    if (values) {
      for (let i = 1, previous = values[0]!; i <= length; i++) {
        const value = values[i]!;
        if (value < previous) return i;
        previous = value;
      }
      return 0;
    }
    for (let i = 1, previous = this.view.getInt32(offset, true); i <= length; i++) {
      const value = this.view.getInt32(offset + 4 * i, true);
      if (value < previous) return i;
      previous = value;
    }
    return 0;
  }

  private firstDecrease64(offset: number, length: number, fail: (what: string) => ArrowValidationError): number {
    for (let i = 1, previous = this.int64(offset, fail); i <= length; i++) {
      const value = this.int64(offset + 8 * i, fail);
      if (value < previous) return i;
      previous = value;
    }
    return 0;
  }

  /** An Int32Array over `count` values of the body at `offset`, where memory order and alignment allow one (a view, no copy). */
  private int32View(offset: number, count: number): Int32Array | undefined {
    const start = this.body.byteOffset + offset;
    return LITTLE_ENDIAN && start % 4 === 0 ? new Int32Array(this.body.buffer, start, count) : undefined;
  }

  /** A little-endian int64 as an exact number; anything outside ±2^53 is refused, never rounded. */
  private int64(at: number, fail: (what: string) => ArrowValidationError): number {
    const high = this.view.getInt32(at + 4, true);
    if (high < -0x200000 || high >= 0x200000) throw fail(`64-bit value ${this.view.getBigInt64(at, true)} at body byte ${at} is out of range`);
    return high * 2 ** 32 + this.view.getUint32(at, true);
  }

  private indices(type: Dictionary, length: number, isValid: ((i: number) => boolean) | undefined, fail: (what: string) => ArrowValidationError): void {
    const width = type.indices.bitWidth / 8;
    const data = this.nextBuffer(fail, 'indices', width);
    if (data.length < length * width) throw fail(`${length} indices need ${length * width} bytes, the buffer holds ${data.length}`);
    const size = this.dictionaries.get(type.id);
    if (size === undefined) throw fail(`dictionary id ${type.id} has not been sent before this batch`);
    const view = this.view;
    const signed = type.indices.isSigned;
    const read: (at: number) => number =
      width === 1 ? (signed ? (at) => view.getInt8(at) : (at) => view.getUint8(at))
        : width === 2 ? (signed ? (at) => view.getInt16(at, true) : (at) => view.getUint16(at, true))
          : width === 4 ? (signed ? (at) => view.getInt32(at, true) : (at) => view.getUint32(at, true))
            : (at) => (!signed && view.getInt32(at + 4, true) < 0 ? Number.POSITIVE_INFINITY : this.int64(at, fail));
    for (let i = 0, at = data.offset; i < length; i++, at += width) {
      if (isValid && !isValid(i)) continue; // a null slot's index is never read
      const index = read(at);
      if (index < 0 || index >= size) throw fail(`index ${i} is ${index}, outside the dictionary of ${size} values`);
    }
  }

  private views(length: number, isValid: ((i: number) => boolean) | undefined, fail: (what: string) => ArrowValidationError): void {
    const views = this.nextBuffer(fail, 'views');
    if (views.length < length * VIEW_BYTES) throw fail(`${length} views need ${length * VIEW_BYTES} bytes, the buffer holds ${views.length}`);
    // As apache-arrow's loader: the next variadic count says how many data buffers follow.
    const count = this.batch.variadicBufferCounts[this.variadicIndex++] ?? 0;
    if (count < 0 || count > this.batch.buffers.length - this.bufferIndex) throw fail(`claims ${count} variadic data buffers`);
    const buffers: BufferRegion[] = [];
    for (let i = 0; i < count; i++) buffers.push(this.nextBuffer(fail, `variadic buffer ${i}`));
    for (let i = 0, at = views.offset; i < length; i++, at += VIEW_BYTES) {
      if (isValid && !isValid(i)) continue;
      const size = this.view.getInt32(at, true);
      if (size < 0) throw fail(`view ${i} has length ${size}`);
      if (size <= VIEW_INLINE_BYTES) continue;
      const bufferIndex = this.view.getInt32(at + 8, true);
      const offset = this.view.getInt32(at + 12, true);
      const buffer = buffers[bufferIndex];
      if (!buffer) throw fail(`view ${i} refers to variadic buffer ${bufferIndex} of ${count}`);
      if (offset < 0 || offset + size > buffer.length) throw fail(`view ${i} covers bytes ${offset}..${offset + size} of a ${buffer.length}-byte buffer`);
    }
  }

  private union(type: Union, length: number, path: string, fail: (what: string) => ArrowValidationError): number {
    // Before V5 a union had a validity bitmap, which apache-arrow skips.
    if (this.version < MetadataVersion.V5) this.nextBuffer(fail, 'validity bitmap');
    const typeIds = this.nextBuffer(fail, 'type ids');
    if (typeIds.length < length) throw fail(`${length} values need ${length} type ids, the buffer holds ${typeIds.length}`);
    const dense = type.mode === UnionMode.Dense;
    const offsets = dense ? this.nextBuffer(fail, 'offsets', 4) : undefined;
    if (offsets && offsets.length < length * 4) throw fail(`${length} values need ${length * 4} bytes of offsets, the buffer holds ${offsets.length}`);
    const childLengths = (type.children as Field[]).map((child) => this.visit(child.type, `${path}.${child.name}`));
    if (!dense) {
      const short = childLengths.findIndex((childLength) => childLength < length);
      if (short >= 0) throw fail(`child "${type.children[short]!.name}" holds ${childLengths[short]} values, fewer than the union's ${length}`);
    }
    const childOf = new Int16Array(128).fill(-1);
    type.typeIds.forEach((id, child) => { childOf[id] = child; });
    for (let i = 0; i < length; i++) {
      const id = this.view.getInt8(typeIds.offset + i);
      const child = id >= 0 ? childOf[id]! : -1;
      if (child < 0) throw fail(`value ${i} has type id ${id}, not one of [${[...type.typeIds].join(', ')}]`);
      if (!offsets) continue;
      const offset = this.view.getInt32(offsets.offset + 4 * i, true);
      if (offset < 0 || offset >= childLengths[child]!) {
        throw fail(`value ${i} is at offset ${offset} of child "${type.children[child]!.name}", which holds ${childLengths[child]} values`);
      }
    }
    return length;
  }
}
