// Turns a worker's ERROR payload into the matching typed error.
import { ProtocolError, PythonError, type PyUdfError } from '../errors.js';
import { decodeJson, ERROR_PAYLOAD_KEYS, type ErrorPayload } from '../protocol/wire.js';

export function errorFromPayload(frame: Uint8Array | undefined, udf: string, batchIndex?: number): PyUdfError {
  const payload = decodeJson<ErrorPayload>(frame, 'ERROR', ERROR_PAYLOAD_KEYS);
  if (payload.kind === 'protocol') {
    return new ProtocolError(`worker rejected a message of UDF "${udf}": ${payload.message}`);
  }
  const phase = payload.phase ?? 'apply';
  return new PythonError(
    payload.type, payload.message, payload.traceback, payload.frames ?? [], phase, udf,
    phase === 'apply' ? batchIndex : undefined,
  );
}
