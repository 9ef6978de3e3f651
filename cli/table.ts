/**
 * Row output as libguestfs's virt-filesystems prints it: aligned text columns (two spaces
 * apart, one if that passes 72 columns), empty fields shown as "-", columns with no value
 * in any row dropped; or CSV with fields quoted only where needed.
 */
export type Cell = string | undefined;

export function formatText(rows: Cell[][]): string {
  const ncol = Math.max(0, ...rows.map((r) => r.length));
  const width = Array.from({ length: ncol }, (_, j) => Math.max(0, ...rows.map((r) => (r[j] === undefined ? 0 : Math.max(1, r[j]!.length)))));
  const gap = width.reduce((a, w) => a + w + 2, 0) > 72 ? 1 : 2;
  return rows
    .map((r) => {
      const cells: string[] = [];
      width.forEach((w, j) => {
        if (w === 0) return;
        const v = r[j] ? r[j]! : '-';
        cells.push(v.padEnd(w));
      });
      return cells.join(' '.repeat(gap)).trimEnd();
    })
    .map((l) => `${l}\n`)
    .join('');
}

export function formatCsv(rows: Cell[][]): string {
  return rows.map((r) => `${r.map(csvField).join(',')}\n`).join('');
}

function csvField(v: Cell): string {
  if (v === undefined) return '';
  return /[ ",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
