// Container image references as registries and Kubernetes read them (the
// grammar of the distribution project's reference package):
//   reference := name [":" tag] ["@" digest]
//   name      := [domain "/"] path-component ["/" path-component]*
//   domain    := host [":" port]       (a first component with "." or ":", or "localhost")
//   path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := "." | "_" | "__" | "-"+
//   tag       := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//   digest    := algorithm ":" hex{32,}
// The Kubernetes schema only says "string", so a typo such as "My Image"
// would pass kubernetes-models and fail at pull time on every pod.

export interface ImageReference {
  domain: string | null;
  path: string;
  tag: string | null;
  digest: string | null;
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const NAME_MAX = 255;

function validDomain(d: string): boolean {
  let host = d;
  const port = /:(\d+)$/.exec(d);
  if (port) host = d.slice(0, port.index);
  if (/^\[[0-9a-fA-F:.]+\]$/.test(host)) return true; // [IPv6]
  return host.split('.').every((c) => DOMAIN_COMPONENT.test(c));
}

/** The parsed reference, or a sentence saying what is wrong with it. */
export function parseImageReference(text: string): ImageReference | string {
  if (text.length === 0) return 'empty';
  if (/\s/.test(text)) return 'contains white space';
  let rest = text;
  let digest: string | null = null;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return `bad digest "${digest}" (expected algorithm:hex, e.g. sha256: and 64 hex digits)`;
  }
  let tag: string | null = null;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return `bad tag "${tag}" (letters, digits, _ . -, at most 128, not starting with . or -)`;
  }
  if (rest.length === 0) return 'no image name';
  if (rest.length > NAME_MAX) return `name longer than ${NAME_MAX} characters`;
  const parts = rest.split('/');
  let domain: string | null = null;
  if (parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost' || parts[0] !== parts[0].toLowerCase())) {
    domain = parts.shift()!;
    if (!validDomain(domain)) return `bad registry host "${domain}"`;
  }
  for (const p of parts) {
    if (!PATH_COMPONENT.test(p)) return `bad name component "${p}" (lowercase letters and digits, separated by . _ __ or -)`;
  }
  return { domain, path: parts.join('/'), tag, digest };
}
