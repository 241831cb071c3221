import { moveReadmePorts } from './ports';

describe('moveReadmePorts', () => {
  it("moves the README's ports into the test's range", () => {
    expect(
      moveReadmePorts(
        'npx e --port 7000 --frontend-url http://localhost:3000 --backend-url http://localhost:7007',
      ),
    ).toBe(
      'npx e --port 7500 --frontend-url http://localhost:7530 --backend-url http://localhost:7507',
    );
    expect(moveReadmePorts('listen:\n  port: 3000\n')).toBe(
      'listen:\n  port: 7530\n',
    );
  });

  it('leaves other numbers alone', () => {
    const aud =
      '3229737e86243ada50bcb70d1cfc20bf316b858f6080942aaf06157d8b01f667';
    expect(moveReadmePorts(`audience: ${aud}`)).toBe(`audience: ${aud}`);
    expect(moveReadmePorts('30000 17000 7000.5 v3000')).toBe(
      '30000 17000 7000.5 v3000',
    );
  });
});
