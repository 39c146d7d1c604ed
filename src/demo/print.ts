/** Readable trace lines for the demo. */
import type { HookRound } from './metacontroller.js';

/** A section title. */
export const title = (text: string) => console.log(`\n=== ${text} ===`);

/** One hook round trip: the answer, the steps that did something, and the cloud writes. */
export function printRound(hook: string, r: HookRound, writes: readonly string[]): void {
  if (r.statusCode !== 200 || !r.response) {
    console.log(`POST /${hook} → ${r.statusCode}${r.retryAfter ? ` Retry-After: ${r.retryAfter}` : ''}`);
    return;
  }
  const s = r.response.status;
  const ready = s.conditions.find((c) => c.type === 'Ready');
  const extra = [
    r.response.resyncAfterSeconds !== undefined ? `resyncAfterSeconds=${r.response.resyncAfterSeconds}` : '',
    r.response.finalized !== undefined ? `finalized=${r.response.finalized}` : '',
  ].filter(Boolean);
  console.log(`POST /${hook} → 200  Ready=${ready?.status} (${ready?.reason})  address=${s.address ?? '-'}  node=${s.node ?? '-'}  ${extra.join(' ')}`);
  for (const step of s.steps) {
    if (step.outcome === 'skipped' || (step.outcome === 'done' && !writesStep(step.name))) continue;
    console.log(`    ${step.outcome.padEnd(7)} ${step.name}: ${step.detail}`);
  }
  for (const w of writes) console.log(`    cloud ← ${w}`);
}

const writesStep = (name: string) => !name.startsWith('Find') && name !== 'ElectRoutedIPNode';
