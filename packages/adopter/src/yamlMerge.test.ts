import { parse } from 'yaml';
import { mergeYaml } from './yamlMerge';

describe('mergeYaml', () => {
  it('writes a new file as the block, comments included', () => {
    const block = '# why\na: 1 # the value\n';
    expect(mergeYaml(undefined, block)).toBe(block);
  });

  it("sets the block's values and keeps the file's other keys and comments", () => {
    const out = mergeYaml(
      '# top\nauth:\n  providers:\n    guest: {}\ncatalog:\n  rules: [a]\n',
      'auth:\n  providers:\n    cfaccess:\n      teamName: t\n      signIn:\n        resolvers:\n          - resolver: r\n',
    );
    expect(out).toContain('# top');
    expect(parse(out)).toEqual({
      auth: {
        providers: {
          guest: {},
          cfaccess: {
            teamName: 't',
            signIn: { resolvers: [{ resolver: 'r' }] },
          },
        },
      },
      catalog: { rules: ['a'] },
    });
  });

  it('replaces lists rather than merging them', () => {
    expect(parse(mergeYaml('a: [1, 2]\n', 'a: [3]\n'))).toEqual({ a: [3] });
  });

  it('refuses a file that is not a mapping', () => {
    expect(() => mergeYaml('- a\n', 'b: 1\n')).toThrow(/not a YAML mapping/);
  });
});
