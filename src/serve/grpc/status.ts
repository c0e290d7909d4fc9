// Which gRPC status each failure gets: the REST path's errorReply() decides, its HTTP status picks the code.
import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { type ErrorReply, errorReply } from '../http-errors.js';

/** HTTP statuses of errorReply() (and a few more, as Google's API guide pairs them) to gRPC codes. */
const CODES: Readonly<Record<number, status>> = {
  400: status.INVALID_ARGUMENT,
  401: status.UNAUTHENTICATED,
  403: status.PERMISSION_DENIED,
  404: status.NOT_FOUND,
  409: status.ABORTED,
  413: status.RESOURCE_EXHAUSTED,
  429: status.RESOURCE_EXHAUSTED,
  499: status.CANCELLED,
  500: status.INTERNAL,
  501: status.UNIMPLEMENTED,
  503: status.UNAVAILABLE,
  504: status.DEADLINE_EXCEEDED,
};

/** The gRPC code for an HTTP status: the table above, else INVALID_ARGUMENT for 4xx and INTERNAL for the rest. */
export function grpcCode(httpStatus: number): status {
  return CODES[httpStatus] ?? (httpStatus >= 400 && httpStatus < 500 ? status.INVALID_ARGUMENT : status.INTERNAL);
}

/** A failed call's status and whether its error belongs in the server log. */
export interface GrpcFailure {
  readonly error: ServiceError;
  readonly reply: ErrorReply;
}

/**
 * The status a call that failed with `error` ends with: the code from errorReply()'s HTTP status, its safe
 * message as details, and the request id in the trailing metadata (`x-request-id`), as REST sends it.
 */
export function grpcFailure(error: unknown, model: string, requestId: string, exposeErrors: boolean): GrpcFailure {
  const reply = errorReply(error, model, requestId, exposeErrors);
  const metadata = new Metadata();
  metadata.set('x-request-id', requestId);
  const serviceError = Object.assign(new Error(reply.message), { code: grpcCode(reply.status), details: reply.message, metadata });
  return { error: serviceError, reply };
}
