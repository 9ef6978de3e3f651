/** A tiny XML writer for the descriptions the outputs write: elements, attributes, text, indented. */

export interface XmlElement {
  name: string;
  attrs?: Record<string, string | number | undefined>;
  /** Child elements, or the element's text. */
  children?: (XmlElement | undefined)[] | string;
}

/** An element; attributes whose value is undefined are left out, and so are undefined children. */
export function el(name: string, attrs?: XmlElement['attrs'], children?: XmlElement['children']): XmlElement {
  return { name, attrs, children };
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

export function toXml(e: XmlElement, indent = ''): string {
  const attrs = Object.entries(e.attrs ?? {})
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}='${escape(String(v))}'`)
    .join('');
  const open = `${indent}<${e.name}${attrs}`;
  if (typeof e.children === 'string') return `${open}>${escape(e.children)}</${e.name}>\n`;
  const kids = (e.children ?? []).filter((c): c is XmlElement => c !== undefined);
  if (kids.length === 0) return `${open}/>\n`;
  return `${open}>\n${kids.map((c) => toXml(c, `${indent}  `)).join('')}${indent}</${e.name}>\n`;
}
