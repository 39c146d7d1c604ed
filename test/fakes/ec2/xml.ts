/**
 * A tiny XML writer for EC2 query-protocol responses: lowerCamel elements, lists as wrapper
 * elements holding `<item>` children, absent values omitted (as EC2 omits them).
 */

/** An XML value: text, a nested element map, a list of items, or absent. */
export type XmlValue = string | number | boolean | undefined | XmlNode | XmlValue[];
/** Element name → value, in document order. */
export interface XmlNode {
  readonly [name: string]: XmlValue;
}

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Serializes one element. Arrays become `<name><item>…</item>…</name>` (`<name/>` when empty). */
export function element(name: string, value: XmlValue): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.length === 0 ? `<${name}/>` : `<${name}>${value.map((v) => element('item', v)).join('')}</${name}>`;
  if (typeof value === 'object') return `<${name}>${children(value)}</${name}>`;
  return `<${name}>${escape(String(value))}</${name}>`;
}

/** Serializes every entry of `node` as sibling elements. */
export const children = (node: XmlNode): string => Object.entries(node).map(([k, v]) => element(k, v)).join('');

const NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

/** A success document: `<{Action}Response xmlns=…><requestId/>…</…>`. */
export const successDocument = (action: string, requestId: string, body: XmlNode): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${NS}"><requestId>${requestId}</requestId>${children(body)}</${action}Response>`;

/** The EC2 error envelope. */
export const errorDocument = (code: string, message: string, requestId: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escape(code)}</Code><Message>${escape(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
