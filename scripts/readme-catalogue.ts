/**
 * Writes README's tool catalogue from the operation catalogue, between the markers
 * `<!-- catalogue:start -->` and `<!-- catalogue:end -->`. test/readme.test.ts fails when the
 * README and the catalogue disagree.
 *
 *   node --import tsx scripts/readme-catalogue.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as prettier from 'prettier';
import { buildCatalogue } from '../src/operations/catalogue.js';

export function catalogueMarkdown(): string {
  const c = buildCatalogue();
  const groups = [...new Set(c.operations.map((o) => o.group))];
  const out: string[] = [];
  for (const g of groups) {
    out.push(`**${g}**`, '', '| tool | scope | hints | what it does |', '|---|---|---|---|');
    for (const op of c.operations.filter((o) => o.group === g)) {
      const a = op.annotations;
      const hints = a.readOnlyHint
        ? 'read-only'
        : [
            a.destructiveHint ? 'destructive' : 'additive',
            a.idempotentHint ? 'idempotent' : null,
            a.openWorldHint ? 'open-world' : null,
          ]
            .filter(Boolean)
            .join(', ');
      const first = op.description.split(/(?<=\.)\s/)[0]!;
      out.push(`| \`${op.name}\` | ${op.scope} | ${hints} | ${first.replace(/\|/g, '\\|')} |`);
    }
    out.push('');
  }
  out.push('**MCP resources**', '', '| URI template | what it is |', '|---|---|');
  for (const r of c.resources) out.push(`| \`${r.uriTemplate}\` | ${r.description} |`);
  out.push('', '**MCP prompts**', '', '| prompt | arguments | what it asks |', '|---|---|---|');
  for (const p of c.prompts)
    out.push(
      `| \`${p.name}\` | ${p.arguments.map((a) => (a.required ? a.name : `${a.name}?`)).join(', ')} | ${p.description} |`,
    );
  return out.join('\n');
}

/** README with its catalogue section regenerated, formatted as the project's prettier formats it. */
export async function withCatalogue(readme: string): Promise<string> {
  const start = '<!-- catalogue:start -->';
  const end = '<!-- catalogue:end -->';
  const a = readme.indexOf(start);
  const b = readme.indexOf(end);
  if (a < 0 || b < a) throw new Error('README has no catalogue markers');
  const text = `${readme.slice(0, a + start.length)}\n${catalogueMarkdown()}\n${readme.slice(b)}`;
  const options = await prettier.resolveConfig(README_PATH);
  return prettier.format(text, { ...options, parser: 'markdown' });
}

const README_PATH = join(import.meta.dirname, '..', 'README.md');

if (process.argv[1]?.endsWith('readme-catalogue.ts')) {
  writeFileSync(README_PATH, await withCatalogue(readFileSync(README_PATH, 'utf8')));
  process.stdout.write('README catalogue updated\n');
}
