/*
 * Process helpers shared by the suites that run real servers (reliability, production smoke test, adopter
 * test): each started process has a log file and a registered stop, and everything stops at the end, on
 * failure and on Ctrl-C.
 */
export { type Child, startChild } from './child';
export { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium';
export { cleanupAll, onCleanup, runMain } from './cleanup';
export { assertPortsFree, waitForPort } from './ports';
export { type Postgres, startPostgres } from './postgres';
export { type Redis, startRedis } from './redis';
export { Report } from './report';
