/**
 * Runs `run` one at a time. A call while a run is in progress first offers itself to that run (`join`, which
 * returns whether the run took it on); otherwise it shares the one run that starts when the current one ends, and
 * gets that run's result. `run` receives the tags of the calls it serves and must not reject.
 *
 * The edge runtime counts CPU per worker, across every request it serves and the work `waitUntil` keeps alive
 * (see services.ts), so two drains side by side in one isolate would spend two budgets at once.
 */
export function coalescedRuns<T>(
  run: (tags: string[]) => Promise<T>,
  join: () => boolean = () => false,
): (tag: string) => Promise<T> {
  let current: Promise<T> | null = null;
  let next: { tags: string[]; result: Promise<T> } | null = null;

  const start = (tags: string[]): Promise<T> => {
    const result = run(tags).finally(() => {
      current = null;
    });
    current = result;
    return result;
  };

  return (tag) => {
    if (!current) return start([tag]);
    if (!next && join()) return current;
    if (!next) {
      const tags: string[] = [];
      const startNext = () => {
        next = null;
        return start(tags);
      };
      next = { tags, result: current.then(startNext, startNext) };
    }
    next.tags.push(tag);
    return next.result;
  };
}
