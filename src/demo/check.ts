/**
 * The demo's closing check: after a `Delete` finalize the cloud must be exactly what it was
 * before the RoutedIP existed. Compared on the cloud's own state lines (`DemoCloud.state()`),
 * so an address left allocated, a rule left open or a node left in the firewall shows up as a
 * line that was not there before, and anything foreign removed as a line that is gone.
 */

/** The difference between the cloud before the RoutedIP and after its finalize. */
export interface CloudDifference {
  /** State lines now that were not there before: what the RoutedIP left behind. */
  readonly left: string[];
  /** State lines that were there before and are gone: what it removed that it did not add. */
  readonly gone: string[];
}

/** Compares two `state()` snapshots; both lists empty = the cloud is back as it was. */
export function cloudDifference(before: readonly string[], after: readonly string[]): CloudDifference {
  const was = new Set(before);
  const now = new Set(after);
  return { left: after.filter((l) => !was.has(l)), gone: before.filter((l) => !now.has(l)) };
}
