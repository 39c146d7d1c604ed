/**
 * Process entry point (`npm start`): configuration → app → listen, with a graceful close on
 * SIGTERM so in-flight hook calls finish (Metacontroller retries anything that does not).
 */
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { createIssuerRegistry } from './issuers/registry.js';
import { LOWEST_SUPPORTED_NODE_MAJOR, runtimeInfo } from './runtime.js';

const config = loadConfig();
const app = buildApp({
  registry: createIssuerRegistry({ memoryProvider: config.memoryProvider }),
  issuerPolicy: config.issuerPolicy,
  logger: { level: config.logLevel, redact: ['req.headers.authorization', 'headers.authorization'] },
  ...(config.hookToken ? { hookToken: config.hookToken } : {}),
  bodyLimit: config.bodyLimit,
  maxBytesInFlight: config.maxBytesInFlight,
  bodyTimeoutMs: config.bodyTimeoutMs,
  knownSecrets: config.knownSecrets,
  hookTimeoutSeconds: config.hookTimeoutSeconds,
  ...(config.clusterName !== undefined ? { clusterName: config.clusterName } : {}),
  orphanGraceSeconds: config.orphanGraceSeconds,
  readCacheSeconds: config.readCacheSeconds,
});
const runtime = runtimeInfo();
app.log.info({ node: runtime.node, platform: runtime.platform }, 'starting');
if (!runtime.supported) app.log.warn({ node: runtime.node }, `unsupported Node.js version: this package needs Node.js ${LOWEST_SUPPORTED_NODE_MAJOR} or later`);
if (!config.hookToken) app.log.warn('HOOK_TOKEN is not set: hook calls are not authenticated');

let closing = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'closing');
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'close failed');
        process.exit(1);
      },
    );
  });
}

try {
  await app.listen({ port: config.port, host: config.host });
} catch (err) {
  app.log.error({ err }, 'listen failed');
  process.exit(1);
}
