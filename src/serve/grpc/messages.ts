// The inference service's messages as proto.ts loads them: snake_case fields, 64-bit integers as decimal strings, bytes as Buffers.

/** A 64-bit integer as decoded (`longs: String`): a decimal string, exact beyond 2^53. */
export type Int64 = string;

export interface InferParameter {
  /** Which one of the values below is set. */
  readonly parameter_choice?: 'bool_param' | 'int64_param' | 'string_param' | 'double_param' | 'uint64_param';
  readonly bool_param?: boolean;
  readonly int64_param?: Int64 | number;
  readonly string_param?: string;
  readonly double_param?: number;
  readonly uint64_param?: Int64 | number;
}

/** Tensor values by type, row-major. */
export interface InferTensorContents {
  readonly bool_contents: readonly boolean[];
  /** INT8, INT16, INT32. */
  readonly int_contents: readonly number[];
  readonly int64_contents: readonly Int64[];
  /** UINT8, UINT16, UINT32. */
  readonly uint_contents: readonly number[];
  readonly uint64_contents: readonly Int64[];
  readonly fp32_contents: readonly number[];
  readonly fp64_contents: readonly number[];
  readonly bytes_contents: readonly Buffer[];
}

export interface InferInputTensor {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly Int64[];
  readonly parameters: Readonly<Record<string, InferParameter>>;
  /** null when the values travel in the request's raw_input_contents. */
  readonly contents: InferTensorContents | null;
}

export interface InferRequestedOutputTensor {
  readonly name: string;
  readonly parameters: Readonly<Record<string, InferParameter>>;
}

export interface ModelInferRequest {
  readonly model_name: string;
  /** '' for the server's choice (the highest READY version). */
  readonly model_version: string;
  readonly id: string;
  readonly parameters: Readonly<Record<string, InferParameter>>;
  readonly inputs: readonly InferInputTensor[];
  /** Empty: every output of the model. */
  readonly outputs: readonly InferRequestedOutputTensor[];
  /** One per input, in input order, or none (the values are in each input's contents). */
  readonly raw_input_contents: readonly Buffer[];
}

export interface InferOutputTensor {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
}

export interface ModelInferResponse {
  readonly model_name: string;
  readonly model_version: string;
  readonly id: string;
  readonly outputs: readonly InferOutputTensor[];
  /** One per output, in output order: little-endian values, BYTES as 4-byte length + bytes per element. */
  readonly raw_output_contents: readonly Uint8Array[];
}

/** ModelReadyRequest and ModelMetadataRequest. */
export interface ModelRequest {
  readonly name: string;
  /** '' for the server's choice. */
  readonly version: string;
}

/** ServerLiveRequest, ServerReadyRequest and ServerMetadataRequest carry nothing. */
export type EmptyRequest = Readonly<Record<string, never>>;

export interface ServerLiveResponse {
  readonly live: boolean;
}

/** ServerReadyResponse and ModelReadyResponse. */
export interface ReadyResponse {
  readonly ready: boolean;
}

export interface ServerMetadataResponse {
  readonly name: string;
  readonly version: string;
  readonly extensions: readonly string[];
}

export interface TensorMetadataMessage {
  readonly name: string;
  readonly datatype: string;
  /** -1 for the row dimension and for dimensions that vary. */
  readonly shape: readonly number[];
}

export interface ModelMetadataResponse {
  readonly name: string;
  readonly versions: readonly string[];
  readonly platform: string;
  readonly inputs: readonly TensorMetadataMessage[];
  readonly outputs: readonly TensorMetadataMessage[];
}
