export { JuteReader, JuteError, JUTE_LENGTH_MAX } from './reader.js';
export { JuteWriter } from './writer.js';
export { int, long, boolean, ustring, buffer, vector, record } from './schema.js';
export type { FieldType, RecordType, RecordValue } from './schema.js';
