import { expect, it } from 'vitest';
import { describeDoors } from '../harness/suite.js';

describeDoors('organization branding', (t) => {
  it('keeps a logo URL and an accent colour for the customer portal, and clears them with null', async () => {
    const { organization } = await t.door.ok('update_organization', {
      logo_url: 'https://cdn.example.com/logo.svg',
      accent_color: '#16A',
    });
    expect(organization).toMatchObject({
      logo_url: 'https://cdn.example.com/logo.svg',
      accent_color: '#1166aa',
    });
    expect((await t.door.ok('get_organization', {})).organization.accent_color).toBe('#1166aa');
    const cleared = await t.door.ok('update_organization', { logo_url: null, accent_color: null });
    expect(cleared.organization).toMatchObject({ logo_url: null, accent_color: null });
  });

  it('refuses a colour that is not hex and a logo that is not an http(s) URL', async () => {
    const colour = await t.door.fail('update_organization', { accent_color: 'blue' }, 'VALIDATION_ERROR');
    expect(colour.message).toContain("accent_color must be a hex colour like #1f6feb or #16a (got 'blue')");
    const logo = await t.door.fail(
      'update_organization',
      { logo_url: 'javascript:alert(1)' },
      'VALIDATION_ERROR',
    );
    expect(logo.message).toContain('logo_url must be an absolute URL');
  });
});
