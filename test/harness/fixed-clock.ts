/**
 * Preloaded (`node --import`) into a `billfold stdio` child process by tests whose seed examples
 * carry dates of their own time: the process's clock starts at BILLFOLD_TEST_CLOCK (epoch ms)
 * and runs on from there, like the in-process environment's `now`.
 */
const start = Number(process.env.BILLFOLD_TEST_CLOCK);
if (Number.isFinite(start) && start > 0) {
  const real = Date.now;
  const startedAt = real();
  Date.now = () => start + (real() - startedAt);
}
