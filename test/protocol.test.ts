// The TypeScript half of the wire format: header layout and rejection of malformed frames.
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../src/index.js';
import {
  CALL, decodeErrorPayload, decodeHeader, decodeJson, encodeHeader, HEADER_SIZE, KIND_NAMES, MAGIC, SHUTDOWN, VERSION,
} from '../src/protocol/wire.js';

describe('header frame', () => {
  it('lays out magic, version, kind, flags, request id and udf id little-endian in 16 bytes', () => {
    const header = encodeHeader(CALL, 0x01020304, 0xa0b0c0d0);
    expect(header.byteLength).toBe(HEADER_SIZE);
    expect([...header]).toEqual([0x50, 0x55, 0x44, 0x46, VERSION, CALL, 0, 0, 4, 3, 2, 1, 0xd0, 0xc0, 0xb0, 0xa0]);
    expect(decodeHeader(header)).toEqual({ kind: CALL, flags: 0, requestId: 0x01020304, udfId: 0xa0b0c0d0 });
  });

  it('round-trips every kind and ignores unknown flags', () => {
    for (const kind of Object.keys(KIND_NAMES).map(Number)) {
      const header = encodeHeader(kind as typeof CALL, 7, 9);
      header.writeUInt16LE(0xffff, 6);
      expect(decodeHeader(header)).toMatchObject({ kind, requestId: 7, udfId: 9, flags: 0xffff });
    }
  });

  it.each([
    ['a short frame', Buffer.alloc(8), /must be 16 bytes, got 8/],
    ['a missing frame', undefined, /got no frame/],
    ['bad magic', Buffer.concat([Buffer.from('NOPE'), encodeHeader(SHUTDOWN).subarray(4)]), /bad magic "NOPE"/],
    ['an unknown kind', Buffer.from(encodeHeader(SHUTDOWN)).fill(99, 5, 6), /unknown message kind 99/],
  ])('rejects %s with ProtocolError', (_, frame, message) => {
    expect(() => decodeHeader(frame)).toThrow(ProtocolError);
    expect(() => decodeHeader(frame)).toThrow(message);
  });

  it('rejects another protocol version, naming both', () => {
    const header = Buffer.from(encodeHeader(SHUTDOWN));
    header.writeUInt8(1, 4);
    expect(() => decodeHeader(header)).toThrow(/peer speaks version 1, this side speaks 2/);
    expect(MAGIC.toString('ascii')).toBe('PUDF');
  });
});

describe('JSON body', () => {
  it('rejects invalid JSON, non-objects and missing keys with ProtocolError', () => {
    expect(() => decodeJson(Buffer.from('{'), 'READY', [])).toThrow(/READY body is not valid JSON/);
    expect(() => decodeJson(Buffer.from('[1]'), 'READY', [])).toThrow(/must be a JSON object/);
    expect(() => decodeJson(Buffer.from('{"pid":1}'), 'READY', ['pid', 'python'])).toThrow(/lacks python/);
    expect(() => decodeJson(undefined, 'ERROR', [])).toThrow(ProtocolError);
    expect(decodeJson(Buffer.from('{"pid":1}'), 'READY', ['pid'])).toEqual({ pid: 1 });
  });
});

describe('ERROR body', () => {
  const valid = { kind: 'python', phase: 'apply', type: 'ValueError', message: 'm', traceback: 't', frames: [{ file: 'm.py', line: 3, function: 'apply' }] };
  const body = (value: unknown) => Buffer.from(JSON.stringify(value));

  it('accepts what the worker sends, a frame with no line number included', () => {
    expect(decodeErrorPayload(body(valid))).toEqual(valid);
    const noLine = { ...valid, frames: [{ file: '<m>', line: null, function: '<module>' }] };
    expect(decodeErrorPayload(body(noLine)).frames[0]!.line).toBeNull();
    expect(decodeErrorPayload(body({ ...valid, kind: 'protocol', phase: null, frames: [] })).phase).toBeNull();
  });

  it.each([
    ['frames not an array', { ...valid, frames: 'x' }, /"frames" must be an array/],
    ['a frame without a file', { ...valid, frames: [{ line: 1, function: 'f' }] }, /each of "frames"/],
    ['a frame that is null', { ...valid, frames: [null] }, /each of "frames"/],
    ['a line that is a string', { ...valid, frames: [{ file: 'f', line: '1', function: 'f' }] }, /each of "frames"/],
    ['an unknown kind', { ...valid, kind: 'oops' }, /"kind" must be/],
    ['an unknown phase', { ...valid, phase: 'run' }, /"phase" must be/],
    ['a message that is not a string', { ...valid, message: 42 }, /"message" must be a string/],
  ])('rejects %s with ProtocolError, not a raw TypeError', (_, value, message) => {
    expect(() => decodeErrorPayload(body(value))).toThrow(ProtocolError);
    expect(() => decodeErrorPayload(body(value))).toThrow(message);
  });
});
