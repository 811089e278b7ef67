/**
 * The Redis that holds snc's job queues (docs/scale-out.md), named by a redis://HOST:PORT[/DB]
 * URL. Apart from job-queue.ts so that reading the flag does not load BullMQ.
 */
import { SncError } from '../errors.js';

/** A Redis server and database, from a redis://HOST:PORT[/DB] URL. */
export interface QueueTarget {
  /** The URL without its password, for messages. */
  url: string;
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
}

/** Parses --queue's URL; a bad one is an SncError naming the form expected. */
export function parseQueueUrl(url: string, flag = '--queue'): QueueTarget {
  let u: URL | undefined;
  try {
    u = new URL(url);
  } catch {
    u = undefined;
  }
  const bad = (why: string) => new SncError(`${flag} '${url}' ${why}: give redis://HOST:PORT[/DB], e.g. redis://127.0.0.1:6379/0`);
  if (!u || u.protocol !== 'redis:' || !u.hostname) throw bad('is not a Redis URL');
  const port = u.port ? Number(u.port) : 6379;
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0 || !/^\d*$/.test(dbText)) throw bad(`has database '${dbText}', not an integer >= 0`);
  if (u.search || u.hash) throw bad('has a query or fragment');
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  return { url: `redis://${u.host}/${db}`, host: u.hostname.replace(/^\[|\]$/g, ''), port, db, ...(username ? { username } : {}), ...(password ? { password } : {}) };
}
