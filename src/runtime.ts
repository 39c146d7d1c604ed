/**
 * The Node.js runtime this process runs on, as one printable line. `npm run demo`, `npm run e2e`
 * and `npm run bench` print it first, and the service logs it at start, so every figure and trace
 * says which runtime produced it (the image, CI and the README pin the same major: .nvmrc).
 */

/** Facts about the running Node.js, for logs and for the first line of a script's output. */
export interface RuntimeInfo {
  /** `process.version`, e.g. `v24.21.0`. */
  readonly node: string;
  /** The major version number, e.g. 24. */
  readonly major: number;
  /** `linux-x64` and the like. */
  readonly platform: string;
  /** Whether `engines` in package.json accepts this major (22 and later). */
  readonly supported: boolean;
}

/** Lowest Node.js major the package supports; keep in step with `engines` in package.json. */
export const LOWEST_SUPPORTED_NODE_MAJOR = 22;

/** Describes the running Node.js. */
export function runtimeInfo(): RuntimeInfo {
  const major = Number(process.versions.node.split('.')[0]);
  return {
    node: process.version,
    major,
    platform: `${process.platform}-${process.arch}`,
    supported: major >= LOWEST_SUPPORTED_NODE_MAJOR,
  };
}

/** `node v24.21.0 (linux-x64)`, with a warning appended on an unsupported major. */
export function runtimeLine(info: RuntimeInfo = runtimeInfo()): string {
  const warning = info.supported ? '' : ` — UNSUPPORTED: this package needs Node.js ${LOWEST_SUPPORTED_NODE_MAJOR} or later (see README "Node.js version")`;
  return `node ${info.node} (${info.platform})${warning}`;
}
