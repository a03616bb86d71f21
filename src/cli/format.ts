import { Commit, HEADS, Repository, TAGS, formatSignature } from '../engine';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** git's default date format, in the signature's own time zone: "Sat Nov 21 18:22:00 2026 +0100". */
export function gitDate(timestamp: number, tzOffset: number): string {
  const d = new Date((timestamp + tzOffset * 60) * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  const sign = tzOffset < 0 ? '-' : '+';
  const abs = Math.abs(tzOffset);
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()} ${sign}${p(Math.floor(abs / 60))}${p(abs % 60)}`;
}

/** Ref names pointing at each commit, for log decorations. */
export async function decorations(repo: Repository): Promise<Map<string, string[]>> {
  const map = new Map<string, string[]>();
  const add = (id: string, name: string) => map.set(id, [...(map.get(id) ?? []), name]);
  const head = await repo.head();
  for (const b of await repo.refs.list(HEADS)) {
    add(b.id, head.kind === 'branch' && head.branch === b.name ? `HEAD -> ${b.name}` : b.name);
  }
  if (head.kind === 'detached') add(head.id, 'HEAD');
  for (const t of await repo.refs.list(TAGS)) add(t.id, `tag: ${t.name}`);
  return map;
}

export function formatCommitHeader(id: string, c: Commit, decor: string[] | undefined, color: (s: string) => string): string {
  const lines = [color(`commit ${id}`) + (decor?.length ? ` (${decor.join(', ')})` : '')];
  if (c.parents.length > 1) lines.push(`Merge: ${c.parents.map((p) => p.slice(0, 7)).join(' ')}`);
  lines.push(`Author: ${c.author.name} <${c.author.email}>`);
  lines.push(`Date:   ${gitDate(c.author.timestamp, c.author.tzOffset)}`);
  lines.push('');
  for (const l of c.message.replace(/\n$/, '').split('\n')) lines.push(l ? `    ${l}` : '');
  return lines.join('\n') + '\n';
}

export { formatSignature };
