/**
 * The JSON body parser (src/json-body.ts): bodies that cannot hold a `__proto__` or `constructor`
 * key are parsed by `JSON.parse` alone; every other body, in any spelling of those keys, and every
 * body `JSON.parse` refuses, goes through Fastify's parser, which removes them or words the error.
 */
import t from 'tap';
import Fastify from 'fastify';
import { jsonBodyParser, mayHoldPrototypeKey, type StringBodyParser } from '../../src/json-body.js';
import { benchRequest } from '../bench/payloads.js';
import { ScriptedWorld } from './world.js';

/** The parser as app.ts builds it, with a count of the bodies it handed to Fastify's. */
function parser() {
  const fastifyParser = Fastify({ onProtoPoisoning: 'remove', onConstructorPoisoning: 'remove' }).getDefaultJsonParser('remove', 'remove') as StringBodyParser;
  let handed = 0;
  const parse = jsonBodyParser((request, body, done) => {
    handed += 1;
    fastifyParser(request, body, done);
  });
  const run = (body: string) =>
    new Promise<{ err: Error | null; value: unknown }>((resolve) => parse({} as never, body, (err, value) => resolve({ err, value })));
  return { run, handed: () => handed };
}

t.test('which texts may hold a prototype key', async (t) => {
  for (const text of ['{"__proto__":{}}', '{"a":{"constructor":{"prototype":{}}}}', '{"\\u005f_proto__":{}}', '{"\\u0063onstructor":{}}', '{"a":"\\u00e9"}', '{"x__y":1}', '{"destructor":1}']) {
    t.ok(mayHoldPrototypeKey(text), text);
  }
  for (const text of ['{}', '{"a":"proto","b":["constru","ctor"]}', JSON.stringify(benchRequest(50))]) {
    t.notOk(mayHoldPrototypeKey(text), text.slice(0, 60));
  }
});

t.test('a plain body is parsed by JSON.parse alone, to the same value', async (t) => {
  const p = parser();
  const text = JSON.stringify(benchRequest(50));
  const { err, value } = await p.run(text);
  t.equal(err, null);
  t.same(value, JSON.parse(text));
  t.equal(p.handed(), 0, "Fastify's parser was not needed");
});

t.test('prototype keys, literal or escaped, at any depth, are removed by Fastify’s parser', async (t) => {
  const p = parser();
  const bodies = [
    '{"__proto__":{"polluted":1},"a":1}',
    '{"a":{"b":[{"__proto__":{"polluted":1}}]}}',
    '{"\\u005f\\u005fproto\\u005f\\u005f":{"polluted":1},"a":1}',
    '{"a":{"constructor":{"prototype":{"polluted":1}}}}',
    '{"a":{"\\u0063onstructor":{"prototype":{"polluted":1}}}}',
  ];
  for (const body of bodies) {
    const { err, value } = await p.run(body);
    t.equal(err, null, body);
    t.notOk(JSON.stringify(value).includes('polluted'), `removed: ${body}`);
  }
  t.equal(p.handed(), bodies.length, 'every one went to Fastify’s parser');
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
});

t.test('escapes that hold no prototype key keep their meaning', async (t) => {
  const p = parser();
  const { err, value } = await p.run('{"name":"caf\\u00e9","quote":"\\u0022"}');
  t.equal(err, null);
  t.same(value, { name: 'café', quote: '"' });
});

t.test('Fastify words the errors, and strips a byte order mark, as before', async (t) => {
  const p = parser();
  t.match((await p.run('')).err, { code: 'FST_ERR_CTP_EMPTY_JSON_BODY', statusCode: 400 });
  t.match((await p.run('{"a":')).err, { code: 'FST_ERR_CTP_INVALID_JSON_BODY', statusCode: 400 });
  t.same((await p.run('\uFEFF{"a":1}')).value, { a: 1 });
});

t.test('through the app: escaped prototype keys are removed and the call is served', async (t) => {
  const w = await new ScriptedWorld().start(t);
  for (const key of ['\\u005f_proto__', 'constructor', '\\u0063onstructor']) {
    const payload = JSON.stringify(w.request()).replace(/^\{/, `{"${key}":{"prototype":{"polluted":true},"polluted":true},`);
    const res = await w.app.inject({ method: 'POST', url: '/sync', payload, headers: { 'content-type': 'application/json' } });
    t.equal(res.statusCode, 200, key);
  }
  const broken = await w.app.inject({ method: 'POST', url: '/sync', payload: '{"parent":', headers: { 'content-type': 'application/json' } });
  t.equal(broken.statusCode, 400);
  t.match(broken.json(), { code: 'FST_ERR_CTP_INVALID_JSON_BODY' });
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
});
