module.exports = require('@backstage/cli/config/eslint-factory')(__dirname, {
  rules: {
    // Tests assert through small helpers named expect*.
    'jest/expect-expect': ['warn', { assertFunctionNames: ['expect*'] }],
  },
});
