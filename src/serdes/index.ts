export type { Serde } from './serde.js';
export { json, type JsonSerdeOptions } from './json.js';
export { string } from './string.js';
export { bytes } from './bytes.js';
