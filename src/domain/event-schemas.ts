import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { HookyardError } from '../errors.js';
import type { EventType, Json } from '../store/store.js';

// ajv-formats is CommonJS; its default export arrives as the module object under NodeNext.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** Compiles event types' JSON Schemas once per version and validates message payloads against them. */
export class EventSchemas {
  private readonly ajv = new Ajv({ allErrors: true, strict: false });
  private readonly compiled = new Map<string, { updatedAt: number; validate: ValidateFunction }>();

  constructor() {
    addFormats(this.ajv);
  }

  /** Throws validation_error when the schema itself is not a valid JSON Schema. */
  check(schema: Json): void {
    try {
      this.ajv.compile(schema);
    } catch (err) {
      throw new HookyardError('validation_error', `schema is not a valid JSON Schema: ${(err as Error).message}`, [
        { path: '/schema', message: (err as Error).message },
      ]);
    }
  }

  /** Throws payload_invalid with the validation errors when the payload does not match. */
  validate(eventType: EventType, payload: unknown): void {
    if (eventType.schema === null) return;
    let entry = this.compiled.get(eventType.name);
    if (!entry || entry.updatedAt !== eventType.updatedAt) {
      entry = { updatedAt: eventType.updatedAt, validate: this.ajv.compile(eventType.schema) };
      this.compiled.set(eventType.name, entry);
    }
    if (entry.validate(payload)) return;
    throw new HookyardError(
      'payload_invalid',
      `payload does not match the schema of event type "${eventType.name}"`,
      (entry.validate.errors ?? []).map((error) => ({ path: `/payload${error.instancePath}`, message: error.message ?? 'invalid' })),
    );
  }
}
