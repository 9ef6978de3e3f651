/**
 * The copy's progress as virt-v2v shows it: a bar redrawn on one stderr line when stderr is a
 * terminal (`█ 42% [*****          ]`), or `N/100` lines for --machine-readable. Our own few
 * lines rather than a library: the whole bar is one `\r` rewrite, drawn only when the
 * percentage changes.
 */
const WIDTH = 40;

export type ProgressSink = (done: bigint, total: bigint) => void;

/** A bar on `stream` (a TTY): redrawn when the percentage changes, ended with a newline by `end`. */
export function progressBar(stream: NodeJS.WriteStream): { update: ProgressSink; end: () => void } {
  let shown = -1;
  return {
    update(done, total) {
      const pct = percent(done, total);
      if (pct === shown) return;
      shown = pct;
      const stars = Math.round((pct * WIDTH) / 100);
      stream.write(`\r█ ${String(pct).padStart(3)}% [${'*'.repeat(stars)}${' '.repeat(WIDTH - stars)}]`);
    },
    end() {
      if (shown >= 0) stream.write('\n');
      shown = -1;
    },
  };
}

/** `N/100` on `out` each time the percentage changes (libguestfs's machine-readable progress). */
export function progressLines(out: (line: string) => void): ProgressSink {
  let shown = -1;
  return (done, total) => {
    const pct = percent(done, total);
    if (pct !== shown) out(`${pct}/100`);
    shown = pct;
  };
}

function percent(done: bigint, total: bigint): number {
  return total === 0n ? 100 : Number((done * 100n) / total);
}
