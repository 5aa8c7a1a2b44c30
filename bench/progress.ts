// The progress bar of a benchmark run on stderr (`npm run bench`, `npm run bench:many`): done/total `unit` and what
// runs now.
import cliProgress from 'cli-progress';

export interface Progress {
  /** For the run's onProgress option. */
  onProgress: (event: { done: number; total: number; label: string }) => void;
  /** Removes the bar (before the report is printed). */
  stop: () => void;
}

export function progressBar(unit: string): Progress {
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: ` {bar} {value}/{total} ${unit} | {duration}s | {label}`, hideCursor: true, clearOnComplete: true, etaBuffer: 20 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1, 0, { label: 'starting' });
  return {
    onProgress: ({ done, total, label }) => {
      bar.setTotal(total);
      bar.update(done, { label });
    },
    stop: () => bar.stop(),
  };
}
