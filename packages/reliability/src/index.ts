/*
 * Reliability suites for the cfaccess provider. The suites live in their own files; this package exports
 * nothing for other packages to use.
 */
export {};
