import { callApi, CliError, remoteOf } from './remote.js';

/** `hookyard send <app> <eventType> <json>`: sends one message and prints its id. */
export async function sendCommand(app: string, eventType: string, json: string, options: { server?: string; token?: string; eventId?: string }): Promise<void> {
  let payload: unknown;
  try {
    payload = JSON.parse(json);
  } catch (err) {
    throw new CliError(`the payload is not JSON: ${(err as Error).message}`);
  }
  const message = await callApi<{ id: string }>(remoteOf(options), 'POST', `/api/v1/apps/${encodeURIComponent(app)}/messages`, {
    eventType,
    payload,
    ...(options.eventId === undefined ? {} : { eventId: options.eventId }),
  });
  process.stdout.write(`${message.id}\n`);
}
