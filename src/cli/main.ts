import { Command, Option } from 'commander';
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

await program.parseAsync(process.argv);
