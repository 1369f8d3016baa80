import { randomBytes } from 'node:crypto';

/**
 * A name no other test or run uses (for topics, groups, subjects), readable in broker logs:
 * `uniqueName('clicks')` → `clicks-m3x9k2-a1b2c3`. Only `[a-z0-9-]`, valid as a Kafka topic,
 * a consumer group and a NATS subject token.
 */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}
