import { Commit, FileDiff, HEADS, Repository, TAGS, diffStat, formatSignature, quotePath } from '../engine';

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
  for (const l of c.message.replace(/\n$/, '').split('\n')) lines.push(`    ${l}`); // blank lines too, as git indents them
  return lines.join('\n') + '\n';
}

export { formatSignature };

/** Width for `--stat`, as git takes it: $COLUMNS, else the terminal's width, else 80. */
export function statWidth(): number {
  const env = Number(process.env.COLUMNS);
  if (Number.isInteger(env) && env > 0) return env;
  return process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : 80;
}

/**
 * git's diffstat, line for line (diff.c show_stats with its default settings): ` name | N ++--` per
 * file, names cut from the left with "..." and the graph scaled to fit `width`, binary files as
 * ` name | Bin OLD -> NEW bytes`, then ` N files changed, N insertions(+), N deletions(-)`.
 */
export function formatDiffStat(diffs: readonly FileDiff[], width: number): string {
  if (!diffs.length) return '';
  const decimalWidth = (n: number) => String(n).length;
  const files = diffs.map((d) => ({ name: quotePath(d.path), binary: d.binary ? { from: d.old?.body?.length ?? 0, to: d.new?.body?.length ?? 0 } : undefined, ...diffStat(d) }));
  let maxChange = 0;
  let maxLen = 0;
  let numberWidth = 0;
  let binWidth = 0;
  for (const f of files) {
    maxLen = Math.max(maxLen, f.name.length);
    if (f.binary) {
      binWidth = Math.max(binWidth, 14 + decimalWidth(f.binary.to) + decimalWidth(f.binary.from));
      numberWidth = 3; // "Bin"
      continue;
    }
    maxChange = Math.max(maxChange, f.added + f.deleted);
  }
  numberWidth = Math.max(numberWidth, decimalWidth(maxChange));
  width = Math.max(width, 16 + 6 + numberWidth);
  let graphWidth = maxChange + 4 > binWidth ? maxChange : binWidth - 4;
  let nameWidth = maxLen;
  if (nameWidth + numberWidth + 6 + graphWidth > width) {
    if (graphWidth > Math.trunc((width * 3) / 8) - numberWidth - 6) graphWidth = Math.max(6, Math.trunc((width * 3) / 8) - numberWidth - 6);
    if (nameWidth > width - numberWidth - 6 - graphWidth) nameWidth = width - numberWidth - 6 - graphWidth;
    else graphWidth = width - numberWidth - 6 - nameWidth;
  }
  const scale = (it: number) => (it ? 1 + Math.trunc((it * (graphWidth - 1)) / maxChange) : 0);
  const out: string[] = [];
  let insertions = 0;
  let deletions = 0;
  for (const f of files) {
    let name = f.name;
    let prefix = '';
    let len = nameWidth;
    if (nameWidth < name.length) {
      prefix = '...';
      len = Math.max(0, len - 3);
      name = name.slice(name.length - len);
      const slash = name.indexOf('/');
      if (slash >= 0) name = name.slice(slash);
    }
    const label = ` ${prefix}${name}${' '.repeat(Math.max(0, len - name.length))} | `;
    if (f.binary) {
      out.push(`${label}${'Bin'.padStart(numberWidth)}${f.binary.from || f.binary.to ? ` ${f.binary.from} -> ${f.binary.to} bytes` : ''}`);
      continue;
    }
    insertions += f.added;
    deletions += f.deleted;
    let add = f.added;
    let del = f.deleted;
    if (graphWidth <= maxChange) {
      let total = scale(add + del);
      if (total < 2 && add && del) total = 2;
      if (add < del) {
        add = scale(add);
        del = total - add;
      } else {
        del = scale(del);
        add = total - del;
      }
    }
    const n = f.added + f.deleted;
    out.push(`${label}${String(n).padStart(numberWidth)}${n ? ' ' : ''}${'+'.repeat(add)}${'-'.repeat(del)}`);
  }
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  let summary = ` ${plural(files.length, 'file changed', 'files changed')}`;
  if (insertions || !deletions) summary += `, ${plural(insertions, 'insertion(+)', 'insertions(+)')}`;
  if (deletions || !insertions) summary += `, ${plural(deletions, 'deletion(-)', 'deletions(-)')}`;
  out.push(summary);
  return out.join('\n') + '\n';
}
