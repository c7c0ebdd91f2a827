import pino, { type Logger } from 'pino';
import type { LogLevel } from './config.js';

/** Paths that could carry a secret are censored at every level. */
const REDACT = [
  'req.headers.authorization',
  'req.headers["idempotency-key"]',
  'headers.authorization',
  '*.token',
  '*.secret',
  '*.secrets',
  '*.key',
  '*.adminToken',
  '*.secretKey',
  'config.adminToken',
  'config.secretKey',
];

export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, base: { pid: process.pid } }, destination);
}
