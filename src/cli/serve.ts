import { ConfigError, loadConfig } from '../config.js';
import { startHookyard } from '../hookyard.js';

/** `hookyard serve`: starts everything and stops gracefully on SIGTERM/SIGINT. */
export async function serveCommand(overrides: Record<string, string | undefined>): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env, process.cwd(), overrides);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`hookyard: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }

  const hookyard = await startHookyard(config);
  let banner = `\nHookyard ${config.role === 'all' ? '' : `(${config.role}) `}listening on ${hookyard.url}\n`;
  if (config.role !== 'worker') banner += `  Dashboard:     ${hookyard.url}/\n  API reference: ${hookyard.url}/docs\n`;
  if (hookyard.generatedAdminToken !== null) {
    // Shown once: only its hash is stored.
    banner +=
      `\n  Admin token (shown once, store it now):\n    ${hookyard.generatedAdminToken}\n` +
      `  Use it as: Authorization: Bearer <token>, or set HOOKYARD_ADMIN_TOKEN to choose your own.\n\n`;
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    hookyard.services.logger.info({ signal }, 'shutting down');
    hookyard.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        hookyard.services.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Printed last, in one write: whoever waits for this line can rely on the whole banner and the signal handlers.
  process.stdout.write(banner);
}
