/**
 * vCenter sessions as an administrator sees them, through the simulator's SOAP API: the keys
 * of every open session (SessionManager.sessionList), and TerminateSession, which ends the
 * sessions of others the way vCenter's own expiry does (their cookies then get 401).
 */
import { Agent, request } from 'undici';
import { soapParser } from '../../remote/vpx.js';

export interface VcSessions {
  /** This client's own session. */
  own: string;
  /** Every open session's key, this one's included. */
  keys(): Promise<string[]>;
  /** End every session but this one; returns how many were ended. */
  terminateOthers(): Promise<number>;
  close(): Promise<void>;
}

const SM = '<_this type="SessionManager">SessionManager</_this>';

/** Log in to the simulator at `host` (host:port), trusting `caFile`. */
export async function vcSessions(host: string, ca: Buffer): Promise<VcSessions> {
  const dispatcher = new Agent({ connect: { ca } });
  const parser = await soapParser();
  let cookie = '';
  const call = async (body: string): Promise<Record<string, any>> => {
    const res = await request(`https://${host}/sdk`, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: '"urn:vim25/6.5"', ...(cookie ? { cookie } : {}) },
      body: `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`,
    });
    const setCookie = [res.headers['set-cookie'] ?? []].flat()[0];
    if (setCookie) cookie = setCookie.split(';')[0]!;
    const doc = parser.parse(await res.body.text()) as Record<string, any>;
    const out = doc['Envelope']?.['Body'];
    if (!out || out['Fault']) throw new Error(`vcsim SOAP: ${String(out?.['Fault']?.faultstring ?? `HTTP ${res.statusCode}`)}`);
    return out;
  };
  const login = await call(`<Login xmlns="urn:vim25">${SM}<userName>admin</userName><password>admin</password></Login>`);
  const own = String(login['LoginResponse'].returnval.key);
  const keys = async () => {
    const props = await call(
      `<RetrievePropertiesEx xmlns="urn:vim25"><_this type="PropertyCollector">propertyCollector</_this><specSet><propSet><type>SessionManager</type><pathSet>sessionList</pathSet></propSet><objectSet><obj type="SessionManager">SessionManager</obj></objectSet></specSet><options/></RetrievePropertiesEx>`,
    );
    const val = [props['RetrievePropertiesExResponse'].returnval.objects].flat()[0]?.propSet?.val;
    return [val?.UserSession ?? []].flat().map((s: Record<string, unknown>) => String(s['key']));
  };
  return {
    own,
    keys,
    async terminateOthers() {
      const others = (await keys()).filter((k) => k !== own);
      if (others.length > 0) await call(`<TerminateSession xmlns="urn:vim25">${SM}${others.map((k) => `<sessionId>${k}</sessionId>`).join('')}</TerminateSession>`);
      return others.length;
    },
    close: () => dispatcher.close(),
  };
}
