import { Command, Option } from 'commander';
import { listenCommand } from './listen.js';
import { CliError } from './remote.js';
import { sendCommand } from './send.js';
import { serveCommand } from './serve.js';
import { VERSION } from '../version.js';

const program = new Command('hookyard').version(VERSION).description('Self-hosted webhook platform');

program
  .command('serve')
  .description('run the API, inbound receiver and delivery worker')
  .addOption(new Option('--role <role>', 'which jobs this node runs').choices(['all', 'api', 'worker']))
  .option('--port <port>', 'HTTP port (overrides HOOKYARD_PORT)')
  .action(async (opts: { role?: string; port?: string }) => {
    await serveCommand({ HOOKYARD_ROLE: opts.role, HOOKYARD_PORT: opts.port });
  });

const remoteOptions = (command: Command): Command =>
  command
    .option('--server <url>', 'Hookyard server (default: HOOKYARD_SERVER or http://localhost:8080)')
    .option('--token <token>', 'admin token or app key (default: HOOKYARD_TOKEN)');

/** Runs a client command: a CliError is one line on stderr and exit code 1; Ctrl-C stops a stream cleanly. */
async function run(action: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  try {
    await action(controller.signal);
  } catch (err) {
    if (controller.signal.aborted) return;
    process.stderr.write(`hookyard: ${err instanceof CliError ? err.message : (err as Error).stack}\n`);
    process.exitCode = 1;
  }
}

remoteOptions(
  program
    .command('listen <source>')
    .description("forward a source's requests to a local server, resuming where it left off")
    .requiredOption('--forward <url>', 'where to replay each request, e.g. http://localhost:3000/webhooks')
    .option('--state <file>', 'remembers the last request handled (default: ~/.hookyard/listen/…)'),
).action((source: string, opts: { forward: string; server?: string; token?: string; state?: string }) => run((signal) => listenCommand(source, opts, signal)));

remoteOptions(
  program
    .command('tail <source>')
    .description("print a source's requests as they arrive")
    .option('--json', 'print each request as JSON')
    .option('--state <file>', 'resume after the last request printed'),
).action((source: string, opts: { server?: string; token?: string; json?: boolean; state?: string }) =>
  run((signal) => listenCommand(source, { ...opts, state: opts.state ?? null }, signal)));

remoteOptions(
  program
    .command('send <app> <eventType> <json>')
    .description('send a message from an app (id or uid) and print its id')
    .option('--event-id <id>', 'idempotency: a second send with the same id is refused'),
).action((app: string, eventType: string, json: string, opts: { server?: string; token?: string; eventId?: string }) =>
  run(() => sendCommand(app, eventType, json, opts)));

await program.parseAsync(process.argv);
