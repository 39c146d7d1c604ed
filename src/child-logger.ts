/**
 * Child loggers that cost nothing until they write (issue 10, P1).
 *
 * Every hook call used to get two pino children: Fastify's per-request one (`reqId`) and the
 * sync's (`routedip`). Creating a pino child is `Object.create` of its parent plus its bindings
 * serialised, work the bare route of `npm run bench` does not do, for a sync that writes one line.
 * Measured alone with `npx tsx test/bench/ab.ts`, server CPU per converged 50-Node sync moved by
 * -13 % to +10 % across runs (-1 % to -6 % in three of five): within this machine's run-to-run
 * spread (docs/performance.md, "P1 where it stands"). A `BindingLogger` instead adds its bindings to each line
 * it writes through its parent, so a call that logs once pays one object spread. The lines are
 * the same as a pino child's: bindings first, then the line's own fields, through the same
 * serializers, redaction hook and level check of the root logger.
 */
import type { FastifyBaseLogger } from 'fastify';

type Bindings = Record<string, unknown>;
type Method = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
type LogArgs = [unknown, ...unknown[]];
/** The options `child()` may take (pino's ChildLoggerOptions). */
type ChildOptions = Parameters<FastifyBaseLogger['child']>[1];

/** Whether `child()` options ask for anything (a level, serializers): only a real pino child can do that. */
const hasOptions = (options: ChildOptions): boolean => options !== undefined && Object.keys(options).length > 0;

/** Whether `value` is a plain fields object (not an Error, which pino logs under `err` with its message). */
const isFields = (value: unknown): value is Bindings =>
  typeof value === 'object' && value !== null && !(value instanceof Error) && !Array.isArray(value);

/**
 * A logger that writes through `parent` with `bindings` added to every line, as
 * `parent.child(bindings)` would; a real pino child is made only when needed (child options, a
 * level change, or a first argument that is neither fields nor a message).
 */
export class BindingLogger implements FastifyBaseLogger {
  private real: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
  ) {}

  /** The pino child this logger stands for, made on first need. */
  private materialized(): FastifyBaseLogger {
    return (this.real ??= this.parent.child(this.bindings));
  }

  private write(method: Method, args: LogArgs): void {
    if (this.real !== undefined) return void (this.real[method] as (...a: unknown[]) => void)(...args);
    const [first, ...rest] = args;
    const log = this.parent[method] as (...a: unknown[]) => void;
    if (isFields(first)) log.call(this.parent, { ...this.bindings, ...first }, ...rest);
    else if (typeof first === 'string') log.call(this.parent, this.bindings, first, ...rest);
    else (this.materialized()[method] as (...a: unknown[]) => void)(...args);
  }

  get level(): string {
    return (this.real ?? this.parent).level;
  }

  set level(level: string) {
    this.materialized().level = level;
  }

  fatal(...args: LogArgs): void {
    this.write('fatal', args);
  }
  error(...args: LogArgs): void {
    this.write('error', args);
  }
  warn(...args: LogArgs): void {
    this.write('warn', args);
  }
  info(...args: LogArgs): void {
    this.write('info', args);
  }
  debug(...args: LogArgs): void {
    this.write('debug', args);
  }
  trace(...args: LogArgs): void {
    this.write('trace', args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildOptions): FastifyBaseLogger {
    if (hasOptions(options)) return this.materialized().child(bindings, options);
    return new BindingLogger(this, bindings);
  }
}

/**
 * Fastify's `childLoggerFactory`: the per-request logger (`reqId`) as a `BindingLogger`, or a
 * real child when the route gives logger options (its own level or serializers).
 */
export function bindingChildLoggerFactory(logger: FastifyBaseLogger, bindings: Bindings, options: ChildOptions): FastifyBaseLogger {
  return hasOptions(options) ? logger.child(bindings, options) : new BindingLogger(logger, bindings);
}
