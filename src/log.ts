import pino from 'pino';

/**
 * The process-wide operational logger (JSON lines on stderr). Level from TSZK_LOG_LEVEL,
 * default 'info'; tests set it to 'warn' or 'silent' to keep output readable.
 */
export const log = pino({ name: 'tszk', level: process.env['TSZK_LOG_LEVEL'] ?? 'info', base: { pid: process.pid } }, pino.destination(2));
