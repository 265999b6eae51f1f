import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withCatalogue } from '../scripts/readme-catalogue.js';

const README = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');

describe('README', () => {
  it('lists exactly the operations, resources and prompts the catalogue serves', async () => {
    // Regenerate with: node --import tsx scripts/readme-catalogue.ts
    expect(await withCatalogue(README)).toBe(README);
  });

  it('opens with the quick start commands that CI runs', () => {
    const quick = README.slice(0, README.indexOf('## Configuration'));
    expect(quick).toContain('npm install');
    expect(quick).toContain('npm start');
    expect(quick).toContain('npm test');
    expect(readFileSync(join(import.meta.dirname, '..', '.ci', 'run'), 'utf8')).toContain('npm test');
  });

  it('documents every BILLFOLD_ environment variable the code reads', () => {
    const source = readFileSync(join(import.meta.dirname, '..', 'src', 'config.ts'), 'utf8');
    const vars = new Set(source.match(/BILLFOLD_[A-Z_]+/g));
    for (const v of vars) expect(README, v).toContain(`\`${v}\``);
  });
});
