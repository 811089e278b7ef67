/**
 * Maps items through an async function with up to `depth` calls in flight, yielding the results
 * in input order: work on the next items overlaps the consumer's work on this one, and memory is
 * bounded by `depth` results whatever the number of items.
 */
export async function* prefetchMap<I, O>(items: Iterable<I>, fn: (item: I) => Promise<O>, depth: number): AsyncGenerator<O> {
  const it = items[Symbol.iterator]();
  const queue: Promise<O>[] = [];
  const fill = () => {
    while (queue.length < Math.max(1, depth)) {
      const r = it.next();
      if (r.done) return;
      const p = fn(r.value);
      p.catch(() => {}); // rejections surface when the consumer reaches the item
      queue.push(p);
    }
  };
  fill();
  while (queue.length) {
    const v = await queue[0];
    queue.shift();
    fill();
    yield v;
  }
}
