import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import nodemailer from 'nodemailer';
import { BillfoldError } from '../domain/errors.js';
import { ulid } from '../domain/ids.js';

/**
 * Outgoing email. With an SMTP URL, messages go to that server; without one, each message is
 * written to the outbox folder as an .eml file, so nothing is ever silently dropped.
 */
export interface OutgoingMail {
  from: string;
  to: string;
  replyTo?: string | null;
  subject: string;
  text: string;
  attachments: Array<{ filename: string; content: Buffer; contentType: string }>;
}

export interface SentMail {
  transport: 'smtp' | 'outbox';
  message_id: string;
  recipient: string;
  /** The .eml file for the outbox; the SMTP server's reply for SMTP. */
  location: string | null;
}

export interface Mailer {
  readonly transport: 'smtp' | 'outbox';
  /** The sender address when the caller has none of its own. */
  readonly defaultFrom: string;
  send(mail: OutgoingMail): Promise<SentMail>;
  close(): void;
}

export interface MailerConfig {
  smtpUrl?: string;
  outboxDir: string;
  from?: string;
}

function messageIdFor(from: string): string {
  const domain = /@([^>\s]+)>?$/.exec(from)?.[1] ?? 'billfold.local';
  return `<${ulid().toLowerCase()}@${domain}>`;
}

export function createMailer(config: MailerConfig): Mailer {
  const defaultFrom = config.from ?? 'billing@billfold.local';
  if (config.smtpUrl) {
    // Bounded waits: a mail server that does not answer fails the send instead of stalling it.
    const transporter = nodemailer.createTransport(config.smtpUrl, {
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    } as Parameters<typeof nodemailer.createTransport>[1]);
    return {
      transport: 'smtp',
      defaultFrom,
      async send(mail) {
        const messageId = messageIdFor(mail.from);
        try {
          const info = await transporter.sendMail({ ...mail, replyTo: mail.replyTo ?? undefined, messageId });
          return {
            transport: 'smtp',
            message_id: info.messageId ?? messageId,
            recipient: mail.to,
            location: info.response ?? null,
          };
        } catch (e) {
          throw new BillfoldError(
            'INTERNAL_ERROR',
            `the mail server did not accept the message to ${mail.to}: ${(e as Error).message}`,
            { transport: 'smtp', recipient: mail.to, retryable: true },
            'Nothing was sent or changed; retry, or check BILLFOLD_SMTP_URL.',
          );
        }
      },
      close: () => transporter.close(),
    };
  }
  const dir = resolve(config.outboxDir);
  const transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    transport: 'outbox',
    defaultFrom,
    async send(mail) {
      const messageId = messageIdFor(mail.from);
      const info = (await transporter.sendMail({
        ...mail,
        replyTo: mail.replyTo ?? undefined,
        messageId,
      })) as {
        message: Buffer;
      };
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `${messageId.slice(1, -1).replace(/[^A-Za-z0-9.@_-]/g, '_')}.eml`);
      writeFileSync(file, info.message);
      return { transport: 'outbox', message_id: messageId, recipient: mail.to, location: file };
    },
    close: () => transporter.close(),
  };
}
