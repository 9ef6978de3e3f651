/**
 * Parsing the XML inputs (OVF, libvirt domain XML) with fast-xml-parser, loaded on first use:
 * validated first so a broken file is an error naming its line, namespace prefixes dropped,
 * attributes as `@name`, values left as strings (a guest named "007" stays "007").
 */
import { InputError } from './errors.js';

export type XmlNode = Record<string, any>;

export async function parseXml(text: string, file: string, arrays: readonly string[]): Promise<XmlNode> {
  const { XMLParser, XMLValidator } = await import('fast-xml-parser');
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new InputError(file, `not well-formed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  const list = new Set(arrays);
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    removeNSPrefix: true,
    parseTagValue: false,
    parseAttributeValue: false,
    isArray: (name) => list.has(name),
  });
  try {
    return parser.parse(text) as XmlNode;
  } catch (e) {
    // The validator passes some documents the parser then rejects (bench/fuzz: "Pi Tag is not closed").
    throw new InputError(file, `not well-formed XML: ${(e as Error).message}`, undefined, { cause: e });
  }
}

/** An element's text, whether the parser gave a plain string or `{ '#text': … }`. */
export function xmlText(node: unknown): string | undefined {
  if (typeof node === 'string') return node.trim();
  if (node && typeof node === 'object' && '#text' in node) return String((node as XmlNode)['#text']).trim();
  return undefined;
}
