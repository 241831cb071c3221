/*
 * Reliability suites for the cfaccess provider. The suites live in their own files; the process helpers
 * they share with other suites are in @cfaccess/harness. This package exports nothing for other packages.
 */
export {};
