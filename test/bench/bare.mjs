// The baseline of `npm run bench`: a bare Fastify route that parses the same JSON body (same
// body limit) and answers the parent's status, with Fastify's defaults otherwise (no schema, no
// logger). Plain JavaScript run by plain node, as the service runs from dist/: whatever the
// service costs beyond this is its own.
import Fastify from 'fastify';

const app = Fastify({ bodyLimit: 64 * 1024 * 1024 });
app.post('/sync', async (request) => ({ status: request.body?.parent?.status ?? {}, children: [] }));
const address = await app.listen({ port: Number(process.env.PORT ?? 0), host: process.env.HOST ?? '127.0.0.1' });
process.stdout.write(`bare server listening at ${address}\n`);
for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => void app.close().then(() => process.exit(0)));
