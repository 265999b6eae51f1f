import { Worker } from 'node:worker_threads';

/**
 * Moves SQLite's WAL checkpoints off the request thread. By default the connection that
 * commits past 1,000 WAL pages copies them back into the database file (and syncs it) inside
 * that COMMIT, stalling every request for tens of milliseconds under sustained writes. Here the
 * serving connection never checkpoints; a worker thread with its own connection runs a PASSIVE
 * checkpoint (which never blocks readers or the writer) whenever the WAL has grown, on the
 * other core.
 *
 * A PASSIVE checkpoint alone never lets the WAL start over while writes keep coming: SQLite
 * rewinds the log only when a writer finds every frame already copied back, and under steady
 * ingestion there is always a newer frame. The log then grows without end (gigabytes after a
 * few minutes), every commit appends to fresh file blocks that the filesystem must allocate
 * and zero, and every sync writes them out — twice the cost of overwriting blocks it already
 * has. So once the log passes RESTART_FRAMES the worker asks the serving thread for a moment
 * without a write transaction: the thread grants it the next time it would start one (see
 * `pauseForRestart`), the worker copies back the few frames written since its last PASSIVE
 * pass and rewinds the log (`wal_checkpoint(RESTART)`), and the thread carries on writing
 * from the start of the same file. The serving thread waits asynchronously, so requests keep
 * being read and validated meanwhile and join the next commit.
 */

/** Log size, in 4 KiB frames, past which the worker rewinds it by default (about 16 MiB). */
const RESTART_FRAMES = 4096;
/** How long either side waits for the other before giving up on one rewind. */
const HANDSHAKE_MS = 2000;
/** How long a rewind waits for another process's lock while the serving thread is paused. */
const RESTART_WAIT_MS = 200;

/**
 * States of the shared handshake word (slot 0). Slot 1 turns 1 once the worker watches the log:
 * shared memory rather than a message, since listening for one would keep the process alive.
 */
const IDLE = 0;
const REQUESTED = 1;
const GRANTED = 2;

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const [IDLE, REQUESTED, GRANTED] = [${IDLE}, ${REQUESTED}, ${GRANTED}];
const state = new Int32Array(workerData.shared);
const BUSY_MS = 5000;
const db = new Database(workerData.path);
db.pragma('busy_timeout = ' + BUSY_MS);
db.pragma('synchronous = ' + workerData.synchronous);
function checkpoint(mode) {
  try { return db.pragma('wal_checkpoint(' + mode + ')')[0]; } catch { return undefined; }
}
function rewind() {
  Atomics.store(state, 0, REQUESTED);
  Atomics.wait(state, 0, REQUESTED, workerData.handshakeMs);
  // Not granted in time (no write came): withdraw the request, unless it was granted just now.
  if (Atomics.compareExchange(state, 0, REQUESTED, IDLE) === REQUESTED) return;
  // The serving thread waits meanwhile: should another process hold the database, give up
  // soon and try again at a later turn rather than stall it.
  db.pragma('busy_timeout = ' + workerData.restartWaitMs);
  try { checkpoint('RESTART'); } finally {
    db.pragma('busy_timeout = ' + BUSY_MS);
    Atomics.store(state, 0, IDLE);
    Atomics.notify(state, 0);
  }
}
let busy = false;
let lastLog = -1;
const timer = setInterval(() => {
  if (busy) return;
  busy = true;
  const r = checkpoint('PASSIVE');
  // A log copied back in full that has not grown since the last turn belongs to an idle
  // database: its next write starts the log over by itself.
  const idle = r && r.checkpointed === r.log && r.log === lastLog;
  if (r && r.log >= workerData.restartFrames && !idle) rewind();
  lastLog = r ? r.log : -1;
  busy = false;
}, workerData.intervalMs);
Atomics.store(state, 1, 1);
Atomics.notify(state, 1);
parentPort.on('message', (m) => {
  if (m === 'stop') {
    clearInterval(timer);
    checkpoint('PASSIVE');
    db.close();
    parentPort.postMessage('stopped');
  }
});
`;

export interface Checkpointer {
  /**
   * Called by the serving connection's only user before it starts using the connection, while
   * no write transaction is open. Returns a promise when the worker has asked to rewind the
   * log: the caller must not touch the database until it settles.
   */
  pauseForRestart(): Promise<void> | undefined;
  /** Settles once the worker watches the log (it takes a moment to start, longer on a busy machine). */
  ready(): Promise<void>;
  stop(): Promise<void>;
}

export interface CheckpointerOptions {
  /** How often the worker checks the log (default 250 ms). */
  intervalMs?: number;
  /** Log size in frames past which it is rewound (default RESTART_FRAMES). */
  restartFrames?: number;
}

/** Atomics.waitAsync (Node 16+), which TypeScript's ES2023 library does not declare. */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(a: Int32Array, i: number, v: number, t: number): { async: boolean; value: unknown };
  }
).waitAsync.bind(Atomics);

export function startCheckpointer(
  path: string,
  modulePath: string,
  synchronous: string,
  { intervalMs = 250, restartFrames = RESTART_FRAMES }: CheckpointerOptions = {},
): Checkpointer {
  const shared = new SharedArrayBuffer(8);
  const state = new Int32Array(shared);
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: {
      path,
      module: modulePath,
      synchronous,
      intervalMs,
      shared,
      restartFrames,
      handshakeMs: HANDSHAKE_MS,
      restartWaitMs: RESTART_WAIT_MS,
    },
  });
  worker.unref();
  // A worker that died must not leave the serving thread waiting on it.
  const release = () => {
    Atomics.store(state, 0, IDLE);
    Atomics.notify(state, 0);
  };
  worker.on('error', release);
  worker.on('exit', release);
  let exited = false;
  worker.once('exit', () => {
    exited = true;
    Atomics.store(state, 1, 1);
    Atomics.notify(state, 1);
  });
  return {
    async ready() {
      if (exited || Atomics.load(state, 1) === 1) return;
      const wait = waitAsync(state, 1, 0, HANDSHAKE_MS * 5);
      if (!wait.async) return;
      // As in pauseForRestart: the wait holds no handle of its own.
      const keepAlive = setTimeout(() => {}, HANDSHAKE_MS * 5);
      await (wait.value as Promise<string>);
      clearTimeout(keepAlive);
    },
    pauseForRestart() {
      if (Atomics.compareExchange(state, 0, REQUESTED, GRANTED) !== REQUESTED) return undefined;
      Atomics.notify(state, 0);
      const wait = waitAsync(state, 0, GRANTED, HANDSHAKE_MS * 5);
      if (!wait.async) return undefined;
      // Atomics.waitAsync holds no handle: without one, a process with nothing else to do (a
      // script, not a server) would exit in the middle of the pause.
      const keepAlive = setTimeout(() => {}, HANDSHAKE_MS * 5);
      return (wait.value as Promise<string>).then(() => {
        clearTimeout(keepAlive);
        // Still granted means the wait timed out (the worker stuck or gone): carry on; SQLite's
        // own busy handling takes over from here.
        Atomics.compareExchange(state, 0, GRANTED, IDLE);
      });
    },
    stop: () =>
      new Promise<void>((resolve) => {
        const done = () => resolve();
        worker.once('message', () => void worker.terminate().then(done, done));
        worker.once('exit', done);
        worker.postMessage('stop');
      }),
  };
}
