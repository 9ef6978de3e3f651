/**
 * nginx (Debian's) serving a directory on 127.0.0.1 as vCenter's datastore endpoint does:
 * `/folder/<path>?dcPath=..&dsName=..` with Range support. Auth is an `auth_request` to a
 * small node server here: basic auth with the right password sets `vmware_soap_session`,
 * a request with neither gets 401, and a session idle for `idleMs` expires.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface AuthOptions {
  user: string;
  password: string;
  /** A session idle this long (ms) is dropped (vCenter: 30 minutes). */
  idleMs: number;
}

export interface AuthLog {
  /** Requests that came with basic auth (right or wrong). */
  basic: number;
  /** Requests answered 401. */
  refused: number;
  /** Requests let through by their cookie. */
  byCookie: number;
  /** Every Cookie and Authorization header seen, to check what clients send. */
  headers: string[];
}

export interface Nginx {
  /** http://127.0.0.1:PORT (https: with TLS) */
  origin: string;
  /** `origin/folder/<name>?dcPath=DC0&dsName=ds1` */
  folderUrl(name: string, user?: string): string;
  auth: AuthLog;
  stop(): Promise<void>;
}

async function authServer(opts: AuthOptions, log: AuthLog): Promise<Server> {
  const sessions = new Map<string, number>();
  const server = createServer((req, res) => {
    const cookie = /vmware_soap_session="?([0-9a-f]+)"?/.exec(req.headers.cookie ?? '')?.[1];
    const basic = req.headers.authorization;
    log.headers.push(`${req.headers.cookie ?? ''}|${basic ?? ''}`);
    const now = Date.now();
    if (cookie && (sessions.get(cookie) ?? 0) > now - opts.idleMs) {
      sessions.set(cookie, now);
      log.byCookie++;
      res.writeHead(200).end();
      return;
    }
    if (basic) {
      log.basic++;
      if (basic === `Basic ${Buffer.from(`${opts.user}:${opts.password}`).toString('base64')}`) {
        const key = randomBytes(16).toString('hex');
        sessions.set(key, now);
        res.writeHead(200, { 'x-session': `vmware_soap_session="${key}"; Path=/; HttpOnly` }).end();
        return;
      }
    }
    log.refused++;
    res.writeHead(401).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

/** A certificate and its key (PEM files) for nginx to serve https with. */
export interface NginxTls {
  cert: string;
  key: string;
}

/** Start nginx serving `root` under /folder/ (and, without auth, also at /); https with `tls`. */
export async function startNginx(root: string, auth?: AuthOptions, tls?: NginxTls): Promise<Nginx> {
  const dir = await mkdtemp(join(tmpdir(), 'guestkit-nginx-'));
  await mkdir(join(dir, 'tmp'));
  const log: AuthLog = { basic: 0, refused: 0, byCookie: 0, headers: [] };
  const helper = auth ? await authServer(auth, log) : undefined;
  const port = await freePort();
  const authConf = helper
    ? `auth_request /_auth; auth_request_set $session $upstream_http_x_session; add_header Set-Cookie $session always;`
    : '';
  const conf = `
daemon off; user root; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 256; }
http {
  access_log off; sendfile on; keepalive_requests 100000;
  client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp;
  uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port}${tls ? ` ssl; ssl_certificate ${tls.cert}; ssl_certificate_key ${tls.key}` : ''};
    location /folder/ { alias ${root}/; ${authConf} }
    location / { root ${root}; }
    location = /_auth {
      internal;
      proxy_pass http://127.0.0.1:${helper ? (helper.address() as AddressInfo).port : 1};
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
    }
  }
}`;
  await writeFile(join(dir, 'nginx.conf'), conf);
  const child: ChildProcess = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' });
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await Promise.race([once(child, 'exit'), sleep(5000)]);
    }
    helper?.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitListening(port, child, dir);
  } catch (e) {
    await stop();
    throw e;
  }
  const scheme = tls ? 'https' : 'http';
  return {
    origin: `${scheme}://127.0.0.1:${port}`,
    folderUrl: (name, user) => `${scheme}://${user ? `${user}@` : ''}127.0.0.1:${port}/folder/${name}?dcPath=DC0&dsName=ds1`,
    auth: log,
    stop,
  };
}

/** A port free now (the kernel's pick for a listener closed straight away). */
export async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  s.close();
  await once(s, 'close');
  return port;
}

async function waitListening(port: number, child: ChildProcess, dir: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    if (await accepts(port)) return;
    await sleep(50);
  }
  const err = await readFile(join(dir, 'error.log'), 'utf8').catch(() => '');
  throw new Error(`nginx did not start on port ${port}: ${err}`);
}

/** Whether a TCP connection to the port is accepted (http or https alike). */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
