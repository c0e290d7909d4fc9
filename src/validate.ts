// Checks of numeric options at the boundary, each failing with an InvalidOptionError naming the option.
import { InvalidOptionError } from './errors.js';

export function positiveInteger(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidOptionError(name, `must be a positive integer, got ${String(value)}`);
  }
}

export function nonNegativeInteger(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new InvalidOptionError(name, `must be a non-negative integer, got ${String(value)}`);
  }
}
