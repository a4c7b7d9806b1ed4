/**
 * What the readers of a person's own model files share: the error that names what is wrong with a file, and the
 * signature (inputs and outputs) they read.
 */
import type { TensorSpec } from '../schema.ts';

export class ModelFileError extends Error {
  override name = 'ModelFileError';
}

export interface Signature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}
