/**
 * Line output with bounded memory: lines gather into chunks of about 64 KiB, and a chunk the
 * stream cannot take yet waits for 'drain', so a listing of millions of entries never sits in
 * memory whole. A closed pipe (`virt-ls … | head`) ends the output quietly, as for `find`.
 */
import { once } from 'node:events';

const CHUNK = 64 << 10;

export class LineWriter {
  private lines: string[] = [];
  private size = 0;
  private error?: Error;

  constructor(private readonly stream: NodeJS.WritableStream) {
    stream.on('error', (e: Error) => {
      this.error = e;
    });
  }

  /** Add one line; true when a chunk is full and `flush()` should be awaited. */
  line(text: string): boolean {
    this.lines.push(text, '\n');
    this.size += text.length + 1;
    return this.size >= CHUNK;
  }

  async flush(): Promise<void> {
    if (this.error) throw this.error;
    if (this.size === 0) return;
    const chunk = this.lines.join('');
    this.lines = [];
    this.size = 0;
    if (!this.stream.write(chunk)) await Promise.race([once(this.stream, 'drain'), once(this.stream, 'close')]);
    if (this.error) throw this.error;
  }
}
