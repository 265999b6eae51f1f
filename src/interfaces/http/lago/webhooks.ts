import type { OutgoingEvent } from '../../../services/webhooks/formats.js';
import { lagoId } from './ids.js';
import { customerObject } from './resources/customers.js';
import { walletObject, walletTransactionObject } from './resources/wallets.js';

/**
 * Lago's webhook body, for the endpoints registered through Lago's API:
 * `{ webhook_type, object_type, organization_id, <object_type>: {…} }`, Billfold's event type as
 * webhook_type (the wallet, customer, invoice and subscription events share Lago's names). The
 * objects Lago's API writes from Billfold's alone — wallets, wallet transactions, customers —
 * are written as Lago writes them; the others, whose Lago shape needs more than the event
 * carries, as Billfold does.
 */
const SHAPES: Record<string, (o: Record<string, any>) => Record<string, unknown>> = {
  wallet: walletObject,
  wallet_transaction: walletTransactionObject,
  customer: customerObject,
};

export function lagoWebhookBody(e: OutgoingEvent): string {
  const object = (JSON.parse(e.data) as Record<string, Record<string, unknown>>)[e.object]!;
  const shape = SHAPES[e.object];
  // An object gone by the commit is only its id (`{ id, deleted: true }`): nothing to shape.
  const shaped = shape && object.deleted !== true ? shape(object) : object;
  return JSON.stringify({
    webhook_type: e.type,
    object_type: e.object,
    organization_id: lagoId(e.organizationId),
    [e.object]: shaped,
  });
}
