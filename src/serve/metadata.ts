// Server and model metadata documents of the Open Inference Protocol (GET /v2 and GET /v2/models/{name}).
import { readFileSync } from 'node:fs';
import type { DataType, Schema } from 'apache-arrow';
import { type OipDatatype, tensorTypeOf } from './datatypes.js';

/** The extensions this server implements, as Triton names them. */
export const EXTENSIONS = ['binary_tensor_data'] as const;

export interface TensorMetadata {
  readonly name: string;
  readonly datatype: OipDatatype;
  /** -1 for the row dimension and for dimensions that vary. */
  readonly shape: readonly number[];
}

export interface ModelMetadata {
  readonly name: string;
  readonly platform: 'pyudf';
  readonly inputs: readonly TensorMetadata[];
  readonly outputs: readonly TensorMetadata[];
}

// src/serve/ and dist/serve/ are both two levels below the package root.
let version: string | undefined;
function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}

export function serverMetadata(): { name: 'pyudf'; version: string; extensions: readonly string[] } {
  return { name: 'pyudf', version: packageVersion(), extensions: EXTENSIONS };
}

/**
 * The model's tensors from its declared schemas. A model that declares none lists none: it takes any
 * tensors and returns what its Python code returns. `skipped` names declared columns with no tensor form
 * (they can still be used through an Arrow IPC body).
 */
export function modelMetadata(name: string, input: Schema | undefined, output: Schema | undefined): { metadata: ModelMetadata; skipped: string[] } {
  const skipped: string[] = [];
  const tensors = (schema: Schema | undefined, side: string): TensorMetadata[] => (schema?.fields ?? []).flatMap((field) => {
    const type = tensorTypeOf(field.type as DataType);
    if (typeof type === 'string') {
      skipped.push(`${side} "${field.name}": ${type}`);
      return [];
    }
    return [{ name: field.name, datatype: type.datatype, shape: [-1, ...type.dims] }];
  });
  const metadata: ModelMetadata = { name, platform: 'pyudf', inputs: tensors(input, 'input'), outputs: tensors(output, 'output') };
  return { metadata, skipped };
}
