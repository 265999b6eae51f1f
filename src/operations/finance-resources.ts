import { parseReportingPeriod } from '../domain/reporting-periods.js';
import { addMonthsToDate, dateInZone } from '../domain/time.js';
import { detectAnomalies } from '../services/finance/anomalies.js';
import { getDashboard } from '../services/finance/dashboard.js';
import { getFinancialSummary } from '../services/finance/summary.js';
import type { ServiceContext } from '../services/context.js';
import { validation } from '../domain/errors.js';
import type { PromptDefinition, ResourceDefinition } from './define.js';
import { ANOMALY_THRESHOLD } from './finance.js';

/** The dashboard and financial summaries as resources, and the prompts that read them. */

const json = (v: unknown) => ({ text: JSON.stringify(v, null, 2) });

async function thisMonth(ctx: ServiceContext): Promise<string> {
  return dateInZone(ctx.now(), (await ctx.organization()).timezone).slice(0, 7);
}

/** The period of the same length just before: 2026-11 → 2026-10, 2026-Q1 → 2025-Q4, 2026 → 2025. */
function previousPeriod(name: string): string | null {
  const p = parseReportingPeriod(name);
  if (!p) return null;
  const first = addMonthsToDate(p.firstDay, -p.months);
  if (p.kind === 'month') return first.slice(0, 7);
  if (p.kind === 'year') return first.slice(0, 4);
  return `${first.slice(0, 4)}-Q${(Number(first.slice(5, 7)) + 2) / 3}`;
}

export const financeResources: ResourceDefinition[] = [
  {
    name: 'dashboard',
    title: 'Dashboard',
    description:
      'MRR and its change, revenue this month against last, outstanding and overdue, top customers, AI cost and margin, new customers and ended subscriptions (what get_dashboard returns).',
    uriTemplate: 'billfold://dashboard',
    mimeType: 'application/json',
    scope: 'read',
    listedAs: () => 'billfold://dashboard',
    async read(ctx) {
      return json(await getDashboard(ctx));
    },
  },
  {
    name: 'financial_summary',
    title: 'Financial summary',
    description:
      "A period's invoiced revenue, taxes per rate, credit notes, payments, receivables at its end, cost and margin, per currency and by month (what get_financial_summary returns). period: 2026-11, 2026-Q4 or 2026.",
    uriTemplate: 'billfold://financial/{period}',
    mimeType: 'application/json',
    scope: 'read',
    listedAs: async (ctx) => `billfold://financial/${await thisMonth(ctx)}`,
    async read(ctx, params) {
      return json(await getFinancialSummary(ctx, { period: params.period ?? '' }));
    },
  },
];

export const financePrompts: PromptDefinition[] = [
  {
    name: 'financial_analysis',
    title: 'Financial analysis',
    description:
      'Analyzes a period: revenue, taxes, collections, receivables, cost and margin per currency, the trend month by month and against the period before, with what needs attention.',
    arguments: [
      {
        name: 'period',
        description: 'A month (2026-11), quarter (2026-Q4) or year (2026); default this month',
        required: false,
      },
    ],
    scope: 'read',
    async render(ctx, args) {
      const period = args.period?.trim() || (await thisMonth(ctx));
      const summary = await getFinancialSummary(ctx, { period });
      const before = previousPeriod(summary.period!);
      const prior = before ? await getFinancialSummary(ctx, { period: before }) : null;
      return [
        `Analyze our finances for ${summary.period} (${summary.from} to ${summary.to}, ${summary.timezone}).`,
        'Per currency — never add different currencies together — report: net revenue and how it splits into ' +
          'invoiced net and credit notes; tax collected per rate; payments received against what was invoiced; ' +
          'outstanding and overdue at the end of the period; usage cost and margin (USD). Compare with the period ' +
          'before and show the trend month by month (by_month). Then list what needs attention: a rise in overdue, ' +
          'large credit notes, a falling margin, unpriced usage events (get_needs_attention), and propose next steps ' +
          '(get_accounts_receivable and send_invoice for collections, detect_anomalies for anything odd). Quote ' +
          'amounts exactly as given.',
        '',
        `Summary of ${summary.period}:`,
        JSON.stringify(summary, null, 2),
        ...(prior ? ['', `The period before (${prior.period}):`, JSON.stringify(prior, null, 2)] : []),
      ].join('\n');
    },
  },
  {
    name: 'fraud_detection',
    title: 'Fraud detection',
    description:
      'Reviews the last 90 days of invoices, payments and credit notes for fraud patterns (detect_anomalies): duplicates, overpayments, changed payment references, unusual amounts, credits after payment, round amounts from new customers.',
    arguments: [
      {
        name: 'threshold',
        description: `Robust z-score above which an amount is unusual (greater than 0, default ${ANOMALY_THRESHOLD.default}; higher finds fewer)`,
        required: false,
      },
    ],
    scope: 'read',
    async render(ctx, args) {
      const text = args.threshold?.trim();
      const threshold = text ? Number(text) : undefined;
      if (
        threshold !== undefined &&
        !(/^\d+(\.\d+)?$/.test(text!) && threshold > 0 && threshold <= ANOMALY_THRESHOLD.max)
      )
        throw validation(
          'threshold',
          `must be a robust z-score greater than 0 and at most ${ANOMALY_THRESHOLD.max}, such as ${ANOMALY_THRESHOLD.default} (got '${text}')`,
          undefined,
          { minimum_exclusive: 0, maximum: ANOMALY_THRESHOLD.max },
        );
      const found = await detectAnomalies(ctx, { threshold });
      return [
        `Review these billing anomalies found from ${found.from} to ${found.to} (unusual-amount threshold ${found.threshold}).`,
        'For each finding: say what it is in plain words, how worrying it is (a likely mistake, worth a question to ' +
          'the customer, or a possible fraud) and what to check next with the records it names (get_invoice, ' +
          'list_payments, get_credit_note, get_customer). Group them by customer, most serious first. A finding is ' +
          'not proof: never void, credit or contact anyone without asking me first. If there are none, say so and ' +
          'what was checked. Quote amounts exactly as given.',
        '',
        JSON.stringify(found, null, 2),
      ].join('\n');
    },
  },
];
