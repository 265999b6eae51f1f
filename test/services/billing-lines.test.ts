import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/domain/decimal.js';
import { activeDates, commitmentLine, feeShare, prorate } from '../../src/services/billing/lines.js';
import { planRecord, subscriptionRecord } from '../../src/services/billing/records.js';
import type { PlansTable, SubscriptionsTable } from '../../src/db/schema.js';
import { itemsAt, nextBillingMoment, periodInstants } from '../../src/services/billing/schedule.js';

/** Line building without a database: proration across month lengths and leap years. */
const utc = (s: string) => Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s);

function plan(extra: Partial<PlansTable> = {}) {
  const row: PlansTable = {
    id: 'plan_1',
    organization_id: 'org_1',
    code: 'p',
    name: 'P',
    description: null,
    interval: 'monthly',
    currency: 'USD',
    amount: '30',
    pay_in_advance: 0,
    trial_period_days: 0,
    minimum_commitment: null,
    invoice_display_name: null,
    tax_codes: null,
    metadata: '{}',
    created_at: 0,
    updated_at: 0,
    deleted_at: null,
    ...extra,
  } as PlansTable;
  return planRecord(row, [], new Map());
}

function sub(started: string, extra: Partial<SubscriptionsTable> = {}) {
  return subscriptionRecord({
    id: 'sub_1',
    organization_id: 'org_1',
    external_id: 's',
    customer_id: 'cus_1',
    plan_id: 'plan_1',
    name: null,
    status: 'active',
    billing_time: 'calendar',
    timezone: 'UTC',
    anchor_date: started,
    started_at: utc(started),
    trial_ends_at: null,
    ending_at: null,
    terminated_at: null,
    canceled_at: null,
    plan_overrides: null,
    next_plan_id: null,
    next_plan_at: null,
    next_plan_overrides: null,
    previous_subscription_id: null,
    next_billing_at: null,
    metadata: '{}',
    created_at: 0,
    updated_at: 0,
    ...extra,
  } as SubscriptionsTable);
}

describe('fee proration', () => {
  it('rounds the exact fraction once, half-up', () => {
    expect(prorate(Decimal.parse('30'), 17, 31, 'USD').toString()).toBe('16.45'); // 16.4516…
    expect(prorate(Decimal.parse('10'), 1, 8, 'USD').toString()).toBe('1.25'); // exact
    expect(prorate(Decimal.parse('0.05'), 1, 2, 'USD').toString()).toBe('0.03'); // 0.025 → half-up
    expect(prorate(Decimal.parse('1000'), 1, 3, 'JPY').toString()).toBe('333');
    expect(prorate(Decimal.parse('30'), 31, 31, 'USD').toString()).toBe('30');
  });

  it('counts the days of February in leap and common years', () => {
    const p = plan({ amount: '29' });
    const leap = feeShare(p, activeDates(sub('2028-02-15'), null), { from: '2028-02-01', to: '2028-03-01' });
    expect(leap).toMatchObject({ days: 15, periodDays: 29 });
    expect(leap.amount.toString()).toBe('15');
    const common = feeShare(p, activeDates(sub('2027-02-15'), null), {
      from: '2027-02-01',
      to: '2027-03-01',
    });
    expect(common).toMatchObject({ days: 14, periodDays: 28 });
    expect(common.amount.toString()).toBe('14.5');
  });

  it('pays the start and termination days, and no trial day', () => {
    const s = sub('2028-03-10', {
      trial_ends_at: utc('2028-03-13'),
      terminated_at: utc('2028-03-20T15:00:00Z'),
      status: 'terminated',
    });
    const dates = activeDates(s, s.terminatedAt);
    expect(dates).toEqual({ from: '2028-03-10', to: '2028-03-21', paidFrom: '2028-03-13' });
    const share = feeShare(plan({ amount: '31' }), dates, { from: '2028-03-01', to: '2028-04-01' });
    expect(share).toMatchObject({ days: 8, trialDays: 3 });
    expect(share.amount.toString()).toBe('8');
  });

  it('prorates the minimum commitment like the fee', () => {
    const p = plan({ amount: '0', minimum_commitment: '31' });
    const s = sub('2028-03-22');
    const line = commitmentLine(
      p,
      activeDates(s, null),
      periodInstants({ from: '2028-03-01', to: '2028-04-01' }, 'UTC'),
      [],
      undefined,
    );
    expect(line?.unit_amount.toString()).toBe('10'); // 10 of 31 days
  });
});

describe('billing moments', () => {
  it('anniversary monthly from 31 January: 29 February in 2028, then 31 March', () => {
    const p = plan();
    const s = sub('2028-01-31', { billing_time: 'anniversary' });
    const first = nextBillingMoment(s, p, s.startedAt + 1)!;
    expect(new Date(first).toISOString()).toBe('2028-02-29T00:00:00.000Z');
    const second = nextBillingMoment(s, p, first + 1)!;
    expect(new Date(second).toISOString()).toBe('2028-03-31T00:00:00.000Z');
    expect(itemsAt(s, p, second).map((i) => [i.kind, i.p.period.from, i.p.period.to])).toEqual([
      ['arrears', '2028-02-29', '2028-03-31'],
    ]);
  });

  it('in advance: the start bills the first period, each boundary the ended and the new one', () => {
    const p = plan({ pay_in_advance: 1 });
    const s = sub('2028-01-15');
    expect(itemsAt(s, p, s.startedAt).map((i) => [i.kind, i.p.period.from])).toEqual([
      ['advance', '2028-01-01'],
    ]);
    expect(itemsAt(s, p, utc('2028-02-01')).map((i) => [i.kind, i.p.period.from])).toEqual([
      ['arrears', '2028-01-01'],
      ['advance', '2028-02-01'],
    ]);
    expect(itemsAt(s, p, utc('2028-01-20'))).toEqual([]);
  });

  it('cuts calendar periods in the subscription time zone', () => {
    const p = plan();
    const s = sub('2028-03-01', { timezone: 'Europe/Paris', started_at: utc('2028-02-29T23:00:00Z') });
    const next = nextBillingMoment(s, p, s.startedAt + 1)!;
    // Midnight on 1 April in Paris (summer time, UTC+2).
    expect(new Date(next).toISOString()).toBe('2028-03-31T22:00:00.000Z');
  });
});
