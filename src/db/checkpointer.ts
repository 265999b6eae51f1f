import { Worker } from 'node:worker_threads';

/**
 * Moves SQLite's WAL checkpoints off the request thread. By default the connection that
 * commits past 1,000 WAL pages copies them back into the database file (and syncs it) inside
 * that COMMIT, stalling every request for tens of milliseconds under sustained writes. Here the
 * serving connection never checkpoints; a worker thread with its own connection runs a PASSIVE
 * checkpoint (which never blocks readers or the writer) whenever the WAL has grown, on the
 * other core.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = ' + workerData.synchronous);
let busy = false;
const timer = setInterval(() => {
  if (busy) return;
  busy = true;
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
  busy = false;
}, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'stop') {
    clearInterval(timer);
    try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
    db.close();
    parentPort.postMessage('stopped');
  }
});
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

export function startCheckpointer(
  path: string,
  modulePath: string,
  synchronous: string,
  intervalMs = 250,
): Checkpointer {
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { path, module: modulePath, synchronous, intervalMs },
  });
  worker.unref();
  worker.on('error', () => {});
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        const done = () => resolve();
        worker.once('message', () => void worker.terminate().then(done, done));
        worker.once('exit', done);
        worker.postMessage('stop');
      }),
  };
}
