/**
 * Accuracy/latency Pareto fronts and the choice under a latency budget.
 *
 * A point is on the front when no other point is at least as fast and at least as accurate and
 * strictly better in one of the two. Exact ties (same latency, same accuracy) keep the point with
 * the lowest index, so the front of a list is a function of the list alone.
 */

export interface ParetoPoint {
  latency: number;
  accuracy: number;
}

/** True when `a` (at index ia) puts `b` (at index ib) off the front: dominates it, or ties it exactly and comes first. */
export function beats(a: ParetoPoint, ia: number, b: ParetoPoint, ib: number): boolean {
  if (a.latency > b.latency || a.accuracy < b.accuracy) return false;
  if (a.latency < b.latency || a.accuracy > b.accuracy) return true;
  return ia < ib;
}

/**
 * Indices of the points on the front, fastest first (accuracy strictly rising along it). Points
 * whose latency or accuracy is not a finite number are left out.
 */
export function paretoFront(points: readonly ParetoPoint[]): number[] {
  const order = points
    .map((_, i) => i)
    .filter((i) => Number.isFinite(points[i].latency) && Number.isFinite(points[i].accuracy))
    .sort((i, j) => points[i].latency - points[j].latency || points[j].accuracy - points[i].accuracy || i - j);
  const front: number[] = [];
  let best = -Infinity;
  for (const i of order) {
    if (points[i].accuracy > best) {
      front.push(i);
      best = points[i].accuracy;
    }
  }
  return front;
}

/**
 * The most accurate point whose latency is within `budget` (ties: the faster, then the lower
 * index), or undefined when none fits. It is always a point of the front.
 */
export function bestUnderBudget(points: readonly ParetoPoint[], budget: number): number | undefined {
  let chosen: number | undefined;
  for (const i of paretoFront(points)) if (points[i].latency <= budget) chosen = i;
  return chosen;
}
