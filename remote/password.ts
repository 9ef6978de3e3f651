/**
 * Where a vCenter password comes from: a file (`--password-file`), the GUESTKIT_PASSWORD
 * environment variable, or a prompt on the terminal; never the command line, where `ps`
 * would show it.
 */
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

export const PASSWORD_ENV = 'GUESTKIT_PASSWORD';

export interface PasswordSource {
  passwordFile?: string;
}

/** Read the password once; `undefined` when none is available. */
export async function readPassword(src: PasswordSource, user: string, where: string): Promise<string | undefined> {
  if (src.passwordFile !== undefined) {
    let text: string;
    try {
      text = await readFile(src.passwordFile, 'utf8');
    } catch (e) {
      throw new Error(`--password-file ${src.passwordFile}: ${(e as NodeJS.ErrnoException).code ?? 'cannot read'}`);
    }
    // As virt-v2v's -ip: the first line, without its newline.
    return text.split(/\r?\n/)[0] ?? '';
  }
  const env = process.env[PASSWORD_ENV];
  if (env !== undefined) return env;
  if (process.stdin.isTTY && process.stderr.isTTY) return prompt(`Password for ${user} at ${where}: `);
  return undefined;
}

/** Ask on the terminal without echoing what is typed. */
async function prompt(question: string): Promise<string> {
  process.stderr.write(question);
  const muted = new Writable({ write: (_c, _e, cb) => cb() });
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  try {
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}
