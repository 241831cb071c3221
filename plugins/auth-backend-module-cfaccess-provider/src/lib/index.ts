/*
 * Helpers under every concern: reading an answer's body within a limit,
 * timeouts, JSON depth and freezing, foreign values in the log, a
 * rate-limited logger, SHA-256, and the module's metrics.
 */
export { errorText } from './errorText';
export { logField, logValue } from './logValue';
export { createCfAccessMetrics, type CfAccessMetrics } from './metrics';
export { noopLogger, RateLimitedLogger } from './rateLimitedLogger';
